using System.Diagnostics;
using System.Text.Json;
using SdTune.Checkpoints;
using SdTune.IO;
using SdTune.Models;
using SdTune.Models.Vae;
using static TorchSharp.torch;

namespace SdTune.ToyWorld.Pretraining;

/// <summary>
/// Pretrains the toy base model from random weights: the VAE as an autoencoder on training-split pictures, then the
/// UNet and text encoder together on the frozen VAE's latents (a <c>finetune</c> run of the trainer,
/// <see cref="ToyFineTuneStage"/>), and saves the result as a diffusers folder. With
/// <see cref="ToyPretrainingOptions.ContinueFrom"/> it trains an existing toy model on instead (its VAE kept), and the
/// report lists the earlier stages before the new one.
/// </summary>
public static class ToyPretraining
{
    /// <summary>The report's file name inside the model folder.</summary>
    public const string ReportFileName = "pretraining_report.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Runs both stages and saves the model (and <see cref="ReportFileName"/>) to <paramref name="outputFolder"/>.</summary>
    /// <param name="outputFolder">The diffusers folder to write (replaced if it exists).</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="log">Receives progress lines.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="Training.TrainingDivergedException">A loss became NaN or infinite.</exception>
    public static ToyPretrainingReport Run(string outputFolder, ToyPretrainingOptions? options = null, Action<string>? log = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputFolder);
        options ??= new ToyPretrainingOptions();
        options.Validate();
        log ??= _ => { };
        var clock = Stopwatch.StartNew();
        var budget = options.Minutes * 60;
        using var model = options.ContinueFrom is { } from ? LoadToyModel(from) : ToyBaseModel.Create(options.Seed);
        var world = new ToyWorldGenerator(ToyBaseModel.ImageSize, options.Seed);
        using var data = ToyTrainingSet.Create(world, options.TrainImages, options.ContinueFrom is null ? options.VaeOnlyImages : 0, options.PatternedShare);
        log($"rendered {data.Count} training pictures in {clock.Elapsed.TotalSeconds:F1} s; {get_num_threads()} threads");

        var (vae, stages) = options.ContinueFrom is { } start
            ? (model.Vae, EarlierStages(start))
            : TrainVae(model.Vae, data, options, budget, log);
        var roundTrip = ToyVaeStage.RoundTripAccuracy(vae, world, 256);
        log($"  {roundTrip}");

        var remaining = budget is { } total ? Math.Max(1, total - clock.Elapsed.TotalSeconds - 10) : (double?)null;
        // The trainer and the intermediate evaluations see the live modules through a model view that is deliberately
        // not disposed (the saved model below takes them).
        var view = ToyBaseModel.Assemble(model.Unet, vae, model.TextEncoder);
        void Evaluate(int step) => ToyBaseEvaluation.Evaluate(
            view,
            new ToyEvaluationOptions { Prompts = options.EvaluatePrompts, Steps = 12 },
            line => log($"  step {step}, {line}"));
        var diffusionStage = ToyFineTuneStage.Train(view, world, data, options, remaining, log, Evaluate);
        log($"unet+text: {diffusionStage.Steps} steps in {diffusionStage.Seconds:F0} s, loss {diffusionStage.FirstLoss:F4} -> {diffusionStage.LastLoss:F4}");

        var parameters = new Dictionary<string, long>
        {
            ["unet"] = Count(model.Unet),
            ["vae"] = Count(vae),
            ["text_encoder"] = Count(model.TextEncoder),
        };

        // The saved model takes the trained modules; a blank VAE of `model` (replaced by the trained one) is disposed with it.
        var scale = vae.Config.ScalingFactor;
        var trained = ToyBaseModel.Assemble(model.Unet, vae, model.TextEncoder);
        DiffusersPipelineFormat.Save(trained, outputFolder);
        if (!ReferenceEquals(vae, model.Vae))
        {
            vae.Dispose();
        }

        var seconds = stages.Sum(s => s.Seconds) + clock.Elapsed.TotalSeconds;
        var report = new ToyPretrainingReport(options.Seed, [.. stages, diffusionStage], scale, parameters, seconds, get_num_threads(), roundTrip);
        AtomicFile.WriteAllText(Path.Combine(outputFolder, ReportFileName), JsonSerializer.Serialize(report, Json));
        log($"saved {outputFolder} after {report.TotalSeconds:F0} s");
        return report;
    }

    /// <summary>Trains the blank VAE and moves it into a VAE whose config carries the measured scaling factor.</summary>
    private static (AutoencoderKL Vae, IReadOnlyList<ToyStageResult> Stages) TrainVae(AutoencoderKL blank, ToyTrainingSet data, ToyPretrainingOptions options,
        double? budget, Action<string> log)
    {
        var stage = ToyVaeStage.Train(blank, data, options, budget * options.VaeShare, log);
        var scale = ToyVaeStage.LatentScale(blank, data);
        log($"vae: {stage.Steps} steps in {stage.Seconds:F0} s, mse {stage.FirstLoss:F4} -> {stage.LastLoss:F4}; latent scaling factor {scale:F4}");

        // The scaling factor lives in the VAE's config, so the trained weights move into a VAE built with it.
        var vae = new AutoencoderKL(blank.Config with { ScalingFactor = scale });
        vae.load_state_dict(blank.state_dict());
        Freeze(vae);
        return (vae, [stage]);
    }

    /// <summary>Loads the model to continue from, checking that it is built like the toy base model.</summary>
    private static StableDiffusionModel LoadToyModel(string path)
    {
        var model = StableDiffusionModels.Load(path);
        var unet = model.Unet.Config;
        if (model.Vae.Config.SampleSize != ToyBaseModel.ImageSize || !unet.BlockOutChannels.SequenceEqual(ToyBaseModel.Unet.BlockOutChannels)
            || !unet.CrossAttentionDim.SequenceEqual(ToyBaseModel.Unet.CrossAttentionDim))
        {
            model.Dispose();
            throw new ArgumentException($"{path}: not a toy base model (its UNet or VAE is built differently), so pretraining cannot continue from it.");
        }

        Freeze(model.Vae);
        return model;
    }

    /// <summary>The UNet stage trains on the VAE's latents only: evaluation mode, no gradients.</summary>
    private static void Freeze(AutoencoderKL vae)
    {
        vae.eval();
        foreach (var p in vae.parameters())
        {
            p.requires_grad = false;
        }
    }

    /// <summary>The stages recorded in the continued model's report (none when it has no report).</summary>
    private static IReadOnlyList<ToyStageResult> EarlierStages(string path)
    {
        var file = Path.Combine(path, ReportFileName);
        return File.Exists(file) ? JsonSerializer.Deserialize<ToyPretrainingReport>(File.ReadAllText(file), Json)?.Stages ?? [] : [];
    }

    private static long Count(nn.Module module) => module.parameters().Sum(p => p.numel());
}
