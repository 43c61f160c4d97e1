using SdTune.Checkpoints;
using SdTune.Options;
using SdTune.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Training.Methods;

/// <summary>
/// A full fine-tune of the model's own weights, shared by the methods that train it whole (DreamBooth, fine-tuning):
/// every UNet weight in float32, and with <c>train_text_encoder</c> the text encoder(s) too, until
/// <c>stop_text_encoder_training</c>; saved as a diffusers folder and/or a single-file checkpoint (<c>save_model_as</c>).
/// The keys are declared once here and listed by each method's definition, so they mean the same in both.
/// </summary>
internal sealed class FullModelTraining
{
    /// <summary>Also train the text encoder(s), <c>train_text_encoder</c>.</summary>
    public static readonly TrainingOption<bool> TrainTextEncoder = TrainingOption.Flag("train_text_encoder", false, "Also train the text encoder(s).");

    /// <summary>
    /// Stop training the text encoder after this point, <c>stop_text_encoder_training</c>: a value in (0, 1) is a fraction
    /// of the total steps, a value of 1 or more a step count; unset trains it to the end.
    /// </summary>
    public static readonly TrainingOption<double?> StopTextEncoderTraining = TrainingOption.OptionalReal("stop_text_encoder_training",
        new NumericRange(NumberType.Float64, 0, int.MaxValue, MinExclusive: true), "Stop text-encoder training after this fraction of the steps (below 1) or step count.") with
    {
        NotUsed = c => TrainTextEncoder.Value(c) ? null : "needs train_text_encoder",
    };

    /// <summary>Output forms, <c>save_model_as</c>: "diffusers", "safetensors" (single file), or both comma-separated.</summary>
    public static readonly TrainingOption<string> SaveModelAs = TrainingOption.Text("save_model_as", "diffusers", "Output forms: diffusers, safetensors (single file), or both comma-separated.") with
    {
        Check = value => ((string)value).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } forms && forms.All(f => f is "diffusers" or "safetensors")
            ? null
            : $"\"{value}\": use diffusers, safetensors, or both comma-separated.",
    };

    private readonly string methodLabel;
    private TrainingContext? context;
    private List<(string Prefix, nn.Module Module)> trained = [];
    private bool textEncoderStopped;

    /// <summary>Creates the shared part of one run.</summary>
    /// <param name="methodLabel">The method's name in messages ("DreamBooth").</param>
    public FullModelTraining(string methodLabel) => this.methodLabel = methodLabel;

    /// <summary>The keys of a full fine-tune, for a method definition's <see cref="TrainingMethodDefinition.Options"/>.</summary>
    public static IReadOnlyList<TrainingConfigKey> Options => [TrainTextEncoder, StopTextEncoderTraining, SaveModelAs];

    /// <summary>Whether the text encoder(s) are trained in the coming step.</summary>
    public bool TrainsTextEncoder => trained.Any(t => t.Prefix != "unet") && !textEncoderStopped;

    /// <summary>What a configuration trains.</summary>
    public static TrainedParts Trains(TrainingConfig c) =>
        new(true, TrainTextEncoder.Value(c), TrainTextEncoder.Value(c) && StopTextEncoderTraining.Value(c) is null);

    /// <summary>The optimizer step at which text-encoder training stops; null when it never does.</summary>
    public static long? TextEncoderStopStep(TrainingConfig config, long totalSteps)
    {
        ArgumentNullException.ThrowIfNull(config);
        return StopTextEncoderTraining.Value(config) switch
        {
            null => null,
            < 1 and var ratio => (long)Math.Floor(ratio * totalSteps),
            var steps => (long)steps,
        };
    }

    /// <summary>Unfreezes the UNet (and the text encoders when asked) in float32, casts the rest to the weight type, returns the groups.</summary>
    public IReadOnlyList<ParameterGroup> Prepare(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        this.context = context;
        var config = context.Config;
        var model = context.Model;
        model.Unet.to(ScalarType.Float32);
        trained = [("unet", model.Unet)];
        if (TrainTextEncoder.Value(config))
        {
            model.TextEncoder.to(ScalarType.Float32);
            trained.Add(("text_encoder", model.TextEncoder));
            if (model.TextEncoder2 is { } te2)
            {
                te2.to(ScalarType.Float32);
                trained.Add(("text_encoder_2", te2));
            }
        }
        else
        {
            model.TextEncoder.to(context.WeightDType);
            model.TextEncoder2?.to(context.WeightDType);
        }

        var groups = new List<ParameterGroup>();
        foreach (var (_, module) in trained)
        {
            module.train();
            foreach (var p in module.parameters())
            {
                p.requires_grad = true;
            }
        }

        groups.Add(new ParameterGroup("unet", model.Unet.parameters(), config.UnetLr ?? config.LearningRate));
        var te = trained.Where(t => t.Prefix != "unet").SelectMany(t => t.Module.parameters()).ToList();
        if (te.Count > 0)
        {
            groups.Add(new ParameterGroup("text_encoder", te, config.TextEncoderLr ?? config.LearningRate));
        }

        return groups;
    }

    /// <summary>Puts the trained modules in training or evaluation mode (a stopped text encoder stays in evaluation mode).</summary>
    public void SetTrainingMode(bool training)
    {
        foreach (var (prefix, module) in trained)
        {
            module.train(training && (prefix == "unet" || !textEncoderStopped));
        }
    }

    /// <summary>Freezes the text encoder(s) once the step of <c>stop_text_encoder_training</c> is reached.</summary>
    public void BeforeStep(TrainingStepInfo step)
    {
        if (textEncoderStopped || context is null || !trained.Any(t => t.Prefix != "unet"))
        {
            return;
        }

        if (TextEncoderStopStep(context.Config, step.TotalSteps) is { } stop && step.GlobalStep >= stop)
        {
            // Frozen from here: no gradients, so the optimizer leaves these weights (and their state) alone.
            foreach (var (_, module) in trained.Where(t => t.Prefix != "unet"))
            {
                module.eval();
                foreach (var p in module.parameters())
                {
                    p.requires_grad = false;
                }
            }

            textEncoderStopped = true;
        }
    }

    /// <summary>Writes the model in each form of <c>save_model_as</c>; returns the paths written.</summary>
    public IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var ctx = context ?? throw new InvalidOperationException($"The {methodLabel} method is not prepared.");
        var options = new ModelSaveOptions { DType = TrainingConfigParser.SaveDType(info.Config.SavePrecision) ?? ScalarType.Float32 };
        var written = new List<string>();
        foreach (var form in SaveModelAs.Value(info.Config).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (form == "diffusers")
            {
                var path = Path.Combine(folder, name);
                DiffusersPipelineFormat.Save(ctx.Model, path, options);
                written.Add(path);
            }
            else
            {
                var path = Path.Combine(folder, name + ".safetensors");
                SingleFileFormat.Save(ctx.Model, path, options);
                written.Add(path);
            }
        }

        return written;
    }

    /// <summary>Copies of the trained weights, named by module ("unet.…", "text_encoder.…").</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> GetState() =>
        [.. trained.SelectMany(t => t.Module.state_dict().Select(kv => new KeyValuePair<string, Tensor>($"{t.Prefix}.{kv.Key}", kv.Value.detach().clone())))];

    /// <summary>Restores the weights of <see cref="GetState"/>.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        var live = trained.SelectMany(t => t.Module.state_dict().Select(kv => (Key: $"{t.Prefix}.{kv.Key}", kv.Value)))
            .ToDictionary(x => x.Key, x => x.Value, StringComparer.Ordinal);
        StateTensors.CopyInto(live, state, methodLabel);
    }

    /// <summary>Forgets the model.</summary>
    public void Clear()
    {
        trained = [];
        context = null;
    }
}
