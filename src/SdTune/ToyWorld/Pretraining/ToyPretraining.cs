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
/// <see cref="ToyFineTuneStage"/>), and saves the result as a diffusers folder.
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
        using var model = ToyBaseModel.Create(options.Seed);
        var world = new ToyWorldGenerator(ToyBaseModel.ImageSize, options.Seed);
        using var data = ToyTrainingSet.Create(world, options.TrainImages, options.VaeOnlyImages);
        log($"rendered {data.Count} training pictures in {clock.Elapsed.TotalSeconds:F1} s; {get_num_threads()} threads");

        var vaeStage = ToyVaeStage.Train(model.Vae, data, options, budget * options.VaeShare, log);
        var scale = ToyVaeStage.LatentScale(model.Vae, data);
        var roundTrip = ToyVaeStage.RoundTripAccuracy(model.Vae, world, 256);
        log($"vae: {vaeStage.Steps} steps in {vaeStage.Seconds:F0} s, mse {vaeStage.FirstLoss:F4} -> {vaeStage.LastLoss:F4}; latent scaling factor {scale:F4}");
        log($"  {roundTrip}");

        // The scaling factor lives in the VAE's config, so the trained weights move into a VAE built with it.
        var vae = new AutoencoderKL(model.Vae.Config with { ScalingFactor = scale });
        vae.load_state_dict(model.Vae.state_dict());
        vae.eval();
        foreach (var p in vae.parameters())
        {
            p.requires_grad = false;
        }

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

        // The saved model takes the trained modules; the blank VAE of `model` is disposed with it.
        var trained = ToyBaseModel.Assemble(model.Unet, vae, model.TextEncoder);
        DiffusersPipelineFormat.Save(trained, outputFolder);
        vae.Dispose();
        var report = new ToyPretrainingReport(options.Seed, [vaeStage, diffusionStage], scale, parameters, clock.Elapsed.TotalSeconds, get_num_threads(), roundTrip);
        AtomicFile.WriteAllText(Path.Combine(outputFolder, ReportFileName), JsonSerializer.Serialize(report, Json));
        log($"saved {outputFolder} after {report.TotalSeconds:F0} s");
        return report;
    }

    private static long Count(nn.Module module) => module.parameters().Sum(p => p.numel());
}
