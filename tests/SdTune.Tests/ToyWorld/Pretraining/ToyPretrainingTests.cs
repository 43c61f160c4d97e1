using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Pipelines;
using SdTune.ToyWorld.Pretraining;

namespace SdTune.Tests.ToyWorld.Pretraining;

public class ToyPretrainingTests
{
    [Fact]
    public void BaseModelIsAStandardSd1ModelUnderTwentyMegabytes()
    {
        using var model = ToyBaseModel.Create(0);
        var bytes = 4L * (Count(model.Unet) + Count(model.Vae) + Count(model.TextEncoder));
        Assert.InRange(bytes, 1_000_000, 20_000_000);
        Assert.Equal(ToyBaseModel.TextEncoder.HiddenSize, ToyBaseModel.Unet.CrossAttentionDim[0]);
        Assert.Equal(49408, model.TextEncoder.Config.VocabSize);
        Assert.Equal(SdTune.Models.SdArchitecture.SD1, model.Architecture);
    }

    [Fact]
    public void ShortPretrainingLowersBothLossesAndTheFolderLoadsBack()
    {
        using var dir = TestPaths.NewTempDir();
        var folder = Path.Combine(dir.Path, "toybase");
        var options = new ToyPretrainingOptions
        {
            Minutes = null,
            TrainImages = 64,
            VaeOnlyImages = 16,
            VaeSteps = 40,
            VaeBatch = 8,
            VaeLearningRate = 2e-3,
            DiffusionSteps = 40,
            DiffusionBatch = 8,
            WarmupSteps = 0,
        };

        var report = ToyPretraining.Run(folder, options);

        Assert.Equal(2, report.Stages.Count);
        Assert.All(report.Stages, s => Assert.Equal(40, s.Steps));
        Assert.All(report.Stages, s => Assert.True(s.LastLoss < s.FirstLoss, $"{s.Name}: loss {s.FirstLoss} -> {s.LastLoss} did not go down"));
        Assert.True(File.Exists(Path.Combine(folder, ToyPretraining.ReportFileName)));

        using var loaded = StableDiffusionModels.Load(folder);
        Assert.Equal(report.LatentScalingFactor, loaded.Vae.Config.ScalingFactor, 6);
        Assert.Equal(32, loaded.TextEncoder.Config.HiddenSize);
        using var pipeline = new StableDiffusionPipeline(loaded);
        using var result = pipeline.Generate(new GenerationRequest { Prompt = "a red star on blue", Steps = 2, Seed = 1, Width = 32, Height = 32, Sampler = "Euler" });
        Assert.Equal(32, result.Images[0].Image.Width);

        // Continuing: the VAE stays bit-identical, the UNet trains on patterned pictures, the report keeps the earlier stages.
        var continued = Path.Combine(dir.Path, "continued");
        var next = ToyPretraining.Run(continued, options with { ContinueFrom = folder, PatternedShare = 0.5, DiffusionSteps = 10 });
        Assert.Equal([.. report.Stages.Select(s => s.Name), "unet+text (50% patterned)"], next.Stages.Select(s => s.Name));
        Assert.Equal(10, next.Stages[^1].Steps);
        Assert.Equal(report.LatentScalingFactor, next.LatentScalingFactor);
        using var after = StableDiffusionModels.Load(continued);
        Assert.True(Same(loaded.Vae, after.Vae), "continuing changed the VAE");
        Assert.False(Same(loaded.Unet, after.Unet), "continuing left the UNet unchanged");
    }

    [Fact]
    public void ContinuingRefusesAModelThatIsNotAToyBaseModel()
    {
        using var dir = TestPaths.NewTempDir();
        var other = Path.Combine(dir.Path, "other");
        using (var model = new StableDiffusionModel(SdTune.Models.SdArchitecture.SD1,
            new SdTune.Models.Unet.UNet2DConditionModel(ToyBaseModel.Unet with { BlockOutChannels = [32, 32, 64] }),
            new SdTune.Models.Vae.AutoencoderKL(ToyBaseModel.Vae), new SdTune.Models.Clip.ClipTextModel(ToyBaseModel.TextEncoder),
            SdTune.Text.ClipTokenizer.CreateDefault(SdTune.Text.ClipPadding.EndToken), null, null, ToyBaseModel.SchedulerConfig(), PredictionType.Epsilon))
        {
            DiffusersPipelineFormat.Save(model, other);
        }

        var error = Assert.Throws<ArgumentException>(() => ToyPretraining.Run(Path.Combine(dir.Path, "out"), new ToyPretrainingOptions { ContinueFrom = other, DiffusionSteps = 1 }));
        Assert.Contains(other, error.Message, StringComparison.Ordinal);
        Assert.Contains("not a toy base model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EvaluationScoresHeldOutThenTrainPromptsThenPatterns()
    {
        using var model = ToyBaseModel.Create(0);
        var solid = ToyBaseEvaluation.Evaluate(model, new ToyEvaluationOptions { Prompts = 2, Steps = 2, Patterns = false });
        Assert.Equal(["held-out", "train"], solid.Select(r => r.Split));
        var results = ToyBaseEvaluation.Evaluate(model, new ToyEvaluationOptions { Prompts = 2, Steps = 2 });
        Assert.Equal(["held-out", "train", "held-out patterns", "train patterns"], results.Select(r => r.Split));
        Assert.All(results, r =>
        {
            Assert.Equal(2, r.Count);
            Assert.InRange(r.ShapeColorBackground, 0, Math.Min(r.Shape, Math.Min(r.Color, r.Background)));
        });
    }

    private static bool Same(TorchSharp.torch.nn.Module a, TorchSharp.torch.nn.Module b) =>
        a.state_dict().All(kv => kv.Value.eq(b.state_dict()[kv.Key]).all().item<bool>());

    private static long Count(TorchSharp.torch.nn.Module module) => module.parameters().Sum(p => p.numel());
}
