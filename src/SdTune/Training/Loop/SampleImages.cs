using System.Globalization;
using SdTune.Training.Data;
using static TorchSharp.torch;

namespace SdTune.Training.Loop;

/// <summary>
/// The sample images of <c>sample_prompts</c>: made with the model as it is at that step (the method's weights in
/// place, every module in evaluation mode, with the method's controls), without disturbing the run's random draws or training modes.
/// </summary>
internal sealed class SampleImages(TrainingParts parts, TrainerServices services, TrainingJournal journal)
{
    private readonly IReadOnlyList<SamplePrompt> prompts = parts.Config.SamplePrompts is { } file && (parts.Config.SampleEveryNSteps is not null || parts.Config.SampleEveryNEpochs is not null)
        ? SamplePromptFile.Load(file)
        : [];

    private bool warnedNoGenerator;

    /// <summary>Samples when the schedule says so after an optimizer step (<paramref name="completedEpoch"/>: the epoch it ended).</summary>
    public void AfterStep(long globalStep, int? completedEpoch)
    {
        var config = parts.Config;
        var byEpoch = config.SampleEveryNEpochs is { } se && completedEpoch is { } ce && ce % se == 0;
        var byStep = config.SampleEveryNEpochs is null && config.SampleEveryNSteps is { } ss && globalStep % ss == 0;
        if (byEpoch || byStep)
        {
            Sample(globalStep, byEpoch ? completedEpoch : null);
        }
    }

    private void Sample(long globalStep, int? completedEpoch)
    {
        if (prompts.Count == 0)
        {
            return;
        }

        if (services.ImageGenerator is not { } imageGenerator)
        {
            if (!warnedNoGenerator)
            {
                journal.Warn("sample_prompts: no image generator is available; sample images are skipped.");
                warnedNoGenerator = true;
            }

            return;
        }

        var config = parts.Config;
        var folder = Path.Combine(parts.OutputDir, "sample");
        Directory.CreateDirectory(folder);
        var stamp = DateTime.Now.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        var position = completedEpoch is { } e ? string.Create(CultureInfo.InvariantCulture, $"e{e:D6}") : string.Create(CultureInfo.InvariantCulture, $"{globalStep:D6}");
        var scratch = Path.Combine(folder, ".controls-" + stamp);
        var controls = parts.Method.SampleControls(scratch);
        var jobs = prompts.Select((p, i) =>
        {
            var seed = p.Seed ?? unchecked((long)(SeededRandom.For(config.Seed, 5, i).NextUInt64() & 0xFFFFFFFF));
            return new SampleImageJob(p with { Seed = seed, Prompt = parts.Method.SamplePrompt(p.Prompt), NegativePrompt = parts.Method.SamplePrompt(p.NegativePrompt) }, Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"{config.OutputName}_{position}_{i:D2}_{stamp}_{seed}.png")), controls);
        }).ToList();
        var modes = parts.Model.Modules.Select(m => (Module: m, m.training)).ToList();

        // A generator that draws from the global generator must not shift the run's dropout draws.
        using var globalRng = TorchSharp.torch.random.get_rng_state();
        parts.Method.SetTrainingMode(false);
        try
        {
            using var noGrad = no_grad();
            foreach (var (module, _) in modes)
            {
                module.eval();
            }

            imageGenerator.Generate(parts.Model, jobs);
        }
        finally
        {
            foreach (var (module, training) in modes)
            {
                module.train(training);
            }

            parts.Method.SetTrainingMode(true);
            TorchSharp.torch.random.set_rng_state(globalRng);
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }
}
