using SdTune.Checkpoints.Control;
using SdTune.Models;
using SdTune.Models.Control;
using SdTune.Pipelines.Control;
using SdTune.Tests.Training.Data;
using SdTune.Training;
using SdTune.Training.Data;
using SdTune.Training.Methods;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Methods;

/// <summary><c>controlnet</c>: a ControlNet trained through the one loop on the tiny model.</summary>
public sealed class ControlNetTrainingTests
{
    [Fact]
    public void Only_the_controlnet_trains_the_base_model_comes_back_bit_identical()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinyModel();
        var config = ControlTrainingKit.ControlNetConfig(dir.Path, steps: 2);
        var result = TrainingTestKit.RunKeepingBase(config, model, withVae: true);
        using var trained = ControlNetFiles.Load(result.Outputs[^1]);
        using var copied = ControlNetModel.FromUnet(model.Unet, [16, 32]);
        var moved = trained.state_dict().Count(kv => !kv.Value.equal(copied.state_dict()[kv.Key]).all().item<bool>());
        Assert.True(moved > 0, "the ControlNet did not train");
        Assert.True(File.Exists(Path.Combine(result.Outputs[^1], "config.json")));
        Assert.True(File.Exists(Path.Combine(result.Outputs[^1], "diffusion_pytorch_model.safetensors")));
    }

    [Fact]
    public void Gradients_reach_the_controlnet_and_nothing_else()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinyModel();
        foreach (var p in model.Modules.SelectMany(m => m.parameters()))
        {
            p.requires_grad = false;
        }

        var config = ControlTrainingKit.ControlNetConfig(dir.Path);
        using var method = new ControlNetMethod();
        var groups = method.Prepare(new TrainingContext { Config = config, Model = model, WeightDType = ScalarType.Float32, PredictionType = PredictionType.Epsilon, Warnings = [] });
        Assert.Equal(method.Network.parameters().Count(), Assert.Single(groups).Parameters.Count);

        var dataset = TrainingDataset.Build(DatasetConfig.FromFolders(config.TrainDataDir!, null, new DatasetOptions { BatchSize = 2, Resolution = new PixelSize(32, 32) },
            new SubsetOptions { CaptionExtension = ".caption" }, [], withConditioning: true), new ImageFileReader(), 1);
        var batch = dataset.GetEpoch(1)[0];
        using var scope = NewDisposeScope();
        var noisy = randn(2, 4, 16, 16);
        var timesteps = tensor(new long[] { 10, 500 });
        var context = randn(2, 77, model.Unet.Config.CrossAttentionDim[0]);
        var residuals = method.UNetResiduals(new UNetResidualInputs(batch, noisy, timesteps, context, null));
        var pred = model.Unet.forward(noisy, timesteps, context, null, residuals.Down, residuals.Mid, residuals.DownIntrablock);
        pred.square().mean().backward();
        Assert.All(model.Modules.SelectMany(m => m.parameters()), p => Assert.Null(p.grad));
        Assert.All(method.Network.parameters(), p => Assert.NotNull(p.grad));

        // The zero convolutions start at zero, so only they (and the mid block's) get a gradient at first.
        Assert.Contains(method.Network.named_parameters(), p => p.name.StartsWith("controlnet_down_blocks.", StringComparison.Ordinal) && p.parameter.grad!.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void A_resumed_run_equals_the_uninterrupted_one_bit_for_bit()
    {
        using var dir = TestPaths.NewTempDir();
        var config = ControlTrainingKit.ControlNetConfig(dir.Path, steps: 4)
            .With(ControlTraining.ProportionEmptyPrompts, 0.5) with { SaveEveryNSteps = 2, SaveState = true, GradientCheckpointing = true };
        ControlTrainingKit.AssertResumesBitIdentically(config, dir.File("resumed"));
    }

    [Fact]
    public void Saves_load_back_as_a_diffusers_folder_and_as_the_original_single_file()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinyModel();
        var config = ControlTrainingKit.ControlNetConfig(dir.Path, steps: 1).With(ControlNetMethod.SingleFile, true) with { CacheLatents = true, MixedPrecision = MixedPrecision.BFloat16 };
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        var folder = Assert.Single(result.Outputs, o => Directory.Exists(o));
        var file = Assert.Single(result.Outputs, o => o.EndsWith(".safetensors", StringComparison.Ordinal));
        using var fromFolder = ControlNetFiles.Load(folder);
        using var fromFile = ControlNetFiles.Load(file);
        fromFolder.EnsureFits(model.Unet.Config, folder, 2);
        var a = fromFolder.state_dict();
        var b = fromFile.state_dict();
        Assert.Equal(a.Keys.Order(StringComparer.Ordinal), b.Keys.Order(StringComparer.Ordinal));
        Assert.All(a, kv => Assert.True(kv.Value.equal(b[kv.Key]).all().item<bool>(), kv.Key));
        Assert.Empty(Directory.GetFileSystemEntries(config.OutputDir!, ".*"));
    }

    [Fact]
    public void A_controlnet_that_does_not_fit_the_unet_is_refused_naming_the_option()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinyModel();
        using (var other = new ControlNetModel(SdTune.Models.Control.ControlNetConfig.FromUnet(model.Unet.Config with { BlockOutChannels = [64, 128] }, [16, 32])))
        {
            ControlNetFiles.SaveFolder(other, dir.File("other"));
        }

        var config = ControlTrainingKit.ControlNetConfig(dir.Path).With(ControlNetMethod.ModelPath, dir.File("other"));
        var e = Assert.Throws<TrainingConfigException>(() => new Trainer(config, new TrainerServices { Model = model }).Run());
        Assert.Equal("controlnet_model_name_or_path", e.Key);
        Assert.Contains("block_out_channels", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_prompts_replace_captions_at_the_configured_rate_seeded()
    {
        using var dir = TestPaths.NewTempDir();
        using var method = new ControlNetMethod();
        using var model = TrainingTestKit.TinyModel();
        var config = ControlTrainingKit.ControlNetConfig(dir.Path).With(ControlTraining.ProportionEmptyPrompts, 0.3);
        method.Prepare(new TrainingContext { Config = config, Model = model, WeightDType = ScalarType.Float32, PredictionType = PredictionType.Epsilon, Warnings = [] });
        var first = Enumerable.Range(0, 20000).Select(i => method.TrainingCaption("a toy", SeededRandom.For(1, 6, i))).ToList();
        var again = Enumerable.Range(0, 20000).Select(i => method.TrainingCaption("a toy", SeededRandom.For(1, 6, i))).ToList();
        Assert.Equal(first, again);
        Assert.All(first, c => Assert.True(c is "" or "a toy"));
        Assert.InRange(first.Count(c => c.Length == 0) / 20000.0, 0.28, 0.32);
    }

    [Fact]
    public void Sample_images_are_generated_with_the_controlnet_as_trained_and_the_validation_image()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinyModel();
        var prompts = DataTestFiles.Text(dir.File("prompts.txt"), "a toy --w 32 --h 32 --s 2\n");
        var validation = DataTestFiles.Png(dir.File("validation.png"), 32, 32);
        var config = ControlTrainingKit.ControlNetConfig(dir.Path, steps: 2).With(ControlTraining.ValidationImage, validation) with { SamplePrompts = prompts, SampleEveryNSteps = 1 };
        var generator = new RecordingGenerator();
        new Trainer(config, new TrainerServices { Model = model, ImageGenerator = generator }).Run();
        Assert.Equal(2, generator.Controls.Count);
        Assert.All(generator.Controls, c => Assert.Equal(ControlType.ControlNet, c.Type));
        Assert.NotEqual(generator.Weights[0], generator.Weights[1]);
        Assert.False(Directory.EnumerateDirectories(Path.Combine(config.OutputDir!, "sample")).Any(), "the scratch control folder should be gone");

        var missing = Assert.Throws<TrainingConfigException>(() => new Trainer(config.With(ControlTraining.ValidationImage, null), new TrainerServices { Model = model, ImageGenerator = generator }).Run());
        Assert.Equal("validation_image", missing.Key);
    }

    /// <summary>Records each job's control and a checksum of the ControlNet it names (loaded as generation loads it).</summary>
    private sealed class RecordingGenerator : ISampleImageGenerator
    {
        public List<ControlRequest> Controls { get; } = [];

        public List<double> Weights { get; } = [];

        public void Generate(StableDiffusionModel model, IReadOnlyList<SampleImageJob> jobs, CancellationToken cancellationToken = default)
        {
            foreach (var job in jobs)
            {
                var control = Assert.Single(job.Controls!);
                Controls.Add(control);
                using var loaded = ControlNetFiles.Load(control.ModelPath);
                Weights.Add(loaded.parameters().Sum(p => p.abs().sum().item<float>()));
            }
        }
    }
}
