using System.Globalization;
using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Options;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Training.Methods;

/// <summary>
/// DreamBooth as a full fine-tune: every UNet weight is trained (float32), and with <c>train_text_encoder</c> the text
/// encoder(s) too, until <c>stop_text_encoder_training</c>. With prior preservation the batch holds the instance examples
/// then the class examples, and the loss is <c>instance + prior_loss_weight · prior</c>. When the class folder holds
/// fewer than <c>num_class_images</c> images, the missing ones are generated with the base model through the
/// <see cref="ISampleImageGenerator"/>. Output: a diffusers folder and/or a single-file checkpoint.
/// </summary>
public sealed class DreamBoothMethod : ITrainingMethod
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

    /// <summary>The method as the rest of SdTune sees it (registered in <see cref="TrainingMethods"/>).</summary>
    public static TrainingMethodDefinition Definition { get; } = new()
    {
        Name = "dreambooth",
        Summary = "DreamBooth: fine-tune the UNet (and optionally the text encoder) with prior preservation.",
        Create = () => new DreamBoothMethod(),
        Options = [TrainTextEncoder, StopTextEncoderTraining, SaveModelAs],
        Trains = c => new TrainedParts(true, TrainTextEncoder.Value(c), TrainTextEncoder.Value(c) && StopTextEncoderTraining.Value(c) is null),
        Output = TrainedOutput.Model,
        Benchmarks =
        [
            new("dreambooth", "DreamBooth (UNet + text encoder)", c => c.With(TrainTextEncoder, true) with { LearningRate = 5e-4 }),

            // Prior preservation: 40 class pictures made by the base model from the spec's class prompt at random
            // placements, trained alongside as kohya's regularisation images (prior loss weight 1).
            new("dreambooth-prior", "DreamBooth + prior preservation", c => c.With(TrainTextEncoder, true) with { LearningRate = 5e-4, PriorLossWeight = 1.0 }, ClassImages: 40),
        ],
    };

    private TrainingContext? context;
    private List<(string Prefix, nn.Module Module)> trained = [];
    private bool textEncoderStopped;

    /// <inheritdoc />
    public string Name => "dreambooth";

    /// <inheritdoc />
    public bool TrainsTextEncoder => trained.Any(t => t.Prefix != "unet") && !textEncoderStopped;

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> Prepare(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        this.context = context;
        var config = context.Config;
        var model = context.Model;
        EnsureClassImages(context);

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
        foreach (var (prefix, module) in trained)
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

    /// <inheritdoc />
    public void SetTrainingMode(bool training)
    {
        foreach (var (prefix, module) in trained)
        {
            module.train(training && (prefix == "unet" || !textEncoderStopped));
        }
    }

    /// <inheritdoc />
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

    /// <inheritdoc />
    public void AfterStep(TrainingStepInfo step)
    {
    }

    /// <inheritdoc />
    public Tensor ReduceLoss(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples) => PriorPreservationLoss.Combine(perSampleLoss, samples);

    /// <inheritdoc />
    public IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var ctx = context ?? throw new InvalidOperationException("The DreamBooth method is not prepared.");
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

    /// <inheritdoc />
    public IReadOnlyList<KeyValuePair<string, Tensor>> GetState() =>
        [.. trained.SelectMany(t => t.Module.state_dict().Select(kv => new KeyValuePair<string, Tensor>($"{t.Prefix}.{kv.Key}", kv.Value.detach().clone())))];

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        var live = trained.SelectMany(t => t.Module.state_dict().Select(kv => (Key: $"{t.Prefix}.{kv.Key}", kv.Value)))
            .ToDictionary(x => x.Key, x => x.Value, StringComparer.Ordinal);
        StateTensors.CopyInto(live, state, "DreamBooth");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        trained = [];
        context = null;
    }

    private static void EnsureClassImages(TrainingContext context)
    {
        var config = context.Config;
        if (!config.WithPriorPreservation || config.ClassDataDir is not { } folder)
        {
            return;
        }

        var existing = Directory.Exists(folder) ? ImageFiles.List(folder).Count : 0;
        var missing = config.NumClassImages - existing;
        if (missing <= 0)
        {
            return;
        }

        if (context.ImageGenerator is not { } generator)
        {
            throw new TrainingConfigException("class_data_dir",
                $"{folder} holds {existing} of the {config.NumClassImages} class images (num_class_images) and no image generator is available to make the rest: " +
                $"add {missing} images of \"{config.ClassPrompt}\" to the folder, or lower num_class_images.");
        }

        Directory.CreateDirectory(folder);
        var size = config.ResolutionSize ?? throw new InvalidOperationException("The configuration is not resolved against the model.");
        var jobs = new List<SampleImageJob>(missing);
        for (var i = 0; i < missing; i++)
        {
            var index = existing + i;
            var prompt = new SamplePrompt(config.ClassPrompt!, Width: size.Width, Height: size.Width, Seed: ClassImageSeed(config.Seed, index));
            jobs.Add(new SampleImageJob(prompt, Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"class-{index:D6}.png"))));
        }

        using (no_grad())
        {
            SetEval(context.Model);
            generator.Generate(context.Model, jobs);
        }

        var now = ImageFiles.List(folder).Count;
        if (now < config.NumClassImages)
        {
            throw new InvalidOperationException($"{folder}: the image generator was asked for {missing} class images but the folder now holds {now} of {config.NumClassImages}.");
        }

        context.Warnings.Add($"Generated {missing} class images of \"{config.ClassPrompt}\" in {folder}.");
    }

    private static long ClassImageSeed(long seed, int index) => unchecked((long)SeededRandom.For(seed, 4, index).NextUInt64() & 0xFFFFFFFFL);

    private static void SetEval(StableDiffusionModel model)
    {
        model.Unet.eval();
        model.Vae.eval();
        model.TextEncoder.eval();
        model.TextEncoder2?.eval();
    }
}
