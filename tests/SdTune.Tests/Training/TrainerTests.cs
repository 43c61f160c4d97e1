using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Tests.Checkpoints.Formats;
using SdTune.Training;
using SdTune.Training.Methods;
using SdTune.Training.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Training;

public sealed class TrainerTests
{
    [Fact]
    public void Training_a_few_images_lowers_the_loss()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.DreamBoothConfig(dir.Path, steps: 8) with
        {
            WithPriorPreservation = false,
            ClassDataDir = null,
            ClassPrompt = null,
            LearningRate = 2e-3,
            TrainBatchSize = 2,
        };
        TrainingTestKit.AssertTrainingLowersTheLoss(config);
    }

    [Fact]
    public void Lora_output_loads_back_with_the_run_metadata_and_continues_training_from_it()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 6).With(LoraMethod.NetworkArgs, ["conv_dim=4", "conv_alpha=4"]) with { LearningRate = 5e-2 };
        using var model = TrainingTestKit.TinyModel();
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        Assert.Equal(6, result.LossHistory.Count);

        var path = Assert.Single(result.Outputs);
        Assert.Equal(Path.Combine(config.OutputDir!, "toy.safetensors"), path);
        using var fresh = TrainingTestKit.TinyModel();
        var file = LoraFileReader.Read(path, new LoraTargets(fresh.Unet, fresh.TextEncoder));
        Assert.Empty(file.UnmatchedKeys);
        Assert.Contains(file.Network.Entries, e => e.Component == LoraComponent.TextEncoder);
        Assert.Contains(file.Network.Entries, e => e.Module.Target.IsSpatialConv);

        // Trained: the up projections (zero in a fresh network) moved.
        Assert.All(file.Network.Entries, e => Assert.True(e.Module.DeltaWeight().abs().max().item<float>() > 0, e.Name));
        Assert.Equal("6", file.Metadata["ss_steps"]);
        Assert.Equal("6", file.Metadata["ss_max_train_steps"]);
        Assert.Equal("4", file.Metadata["ss_num_batches_per_epoch"]);
        Assert.Equal("8", file.Metadata["ss_num_train_images"]);
        Assert.Equal("2", file.Metadata["ss_num_epochs"]);
        Assert.Equal("0.05", file.Metadata["ss_learning_rate"]);
        Assert.Equal("AdamW", file.Metadata["ss_optimizer"]);
        Assert.Equal("1234", file.Metadata["ss_seed"]);
        Assert.Equal("toy", file.Metadata["ss_output_name"]);
        Assert.Equal("32x32", file.Metadata["modelspec.resolution"]);
        Assert.Contains("2_toy", file.Metadata["ss_dataset_dirs"], StringComparison.Ordinal);
        Assert.True(long.Parse(file.Metadata["ss_session_id"], System.Globalization.CultureInfo.InvariantCulture) is >= 0 and < (1L << 32));
        Assert.True(double.Parse(file.Metadata["ss_training_finished_at"], System.Globalization.CultureInfo.InvariantCulture)
            >= double.Parse(file.Metadata["ss_training_started_at"], System.Globalization.CultureInfo.InvariantCulture));

        // The saved network reproduces the trained one: continuing from it starts where training ended.
        var resumed = new SdTune.Training.Methods.LoraMethod();
        var groups = resumed.Prepare(new TrainingContext
        {
            Config = config.With(LoraMethod.NetworkWeights, path),
            Model = fresh,
            WeightDType = ScalarType.Float32,
            PredictionType = SdTune.Models.PredictionType.Epsilon,
            Warnings = [],
        });
        Assert.Equal(["text_encoder", "unet"], groups.Select(g => g.Name));
        TrainingTestKit.AssertBitIdentical(TrainingTestKit.Snapshot(file.Network.state_dict()), TrainingTestKit.Snapshot(resumed.Network.state_dict()));
        resumed.Dispose();
    }

    [Fact]
    public void A_fresh_lora_leaves_the_model_output_unchanged()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinyModel();
        using var scope = NewDisposeScope();
        var latents = randn([1, 4, 16, 16], generator: new Generator(3));
        var ids = tensor(model.Tokenizer.EncodeForModel("a toy").InputIds.Select(i => (long)i).ToArray(), [1, 77]);
        Tensor Output()
        {
            using var noGrad = no_grad();
            var hidden = model.TextEncoder.Encode(ids);
            return model.Unet.forward(latents, tensor(new long[] { 500 }), hidden);
        }

        var before = Output();
        using var method = new SdTune.Training.Methods.LoraMethod();
        method.Prepare(new TrainingContext
        {
            Config = TrainingTestKit.LoraConfig(dir.Path).With(LoraMethod.NetworkArgs, ["conv_dim=2"]),
            Model = model,
            WeightDType = ScalarType.Float32,
            PredictionType = SdTune.Models.PredictionType.Epsilon,
            Warnings = [],
        });
        Assert.True(method.Network.IsAttached);
        var after = Output();
        Assert.True(before.equal(after).all().item<bool>());
    }

    [Fact]
    public void A_non_finite_loss_stops_the_run_and_keeps_the_previous_save()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 4) with { SaveEveryNSteps = 1 };
        using var model = TrainingTestKit.TinyModel();
        var calls = 0;
        var services = new TrainerServices
        {
            Model = model,
            LatentSource = (m, reader) => new PoisonedLatents(new VaeLatentSource(m.Vae, reader), () => ++calls == 2),
        };
        var error = Assert.Throws<TrainingDivergedException>(() => new Trainer(config, services).Run());
        Assert.Equal(2, error.Step);
        Assert.True(double.IsNaN(error.Loss));
        var kept = Path.Combine(config.OutputDir!, "toy-step00000001.safetensors");
        Assert.Equal(kept, error.LastSave);
        Assert.Contains("step 2", error.Message, StringComparison.Ordinal);
        Assert.Contains(kept, error.Message, StringComparison.Ordinal);
        Assert.Equal(["toy-step00000001.safetensors"], Directory.GetFiles(config.OutputDir!, "*.safetensors").Select(Path.GetFileName));
        using var reloaded = TrainingTestKit.TinyModel();
        Assert.Empty(LoraFileReader.Read(kept, new LoraTargets(reloaded.Unet, reloaded.TextEncoder)).UnmatchedKeys);
    }

    [Fact]
    public void Steps_leave_no_live_tensors_behind()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 5) with { NoiseOffset = 0.1, MinSnrGamma = 5, UseEma = true };
        using var model = TrainingTestKit.TinyModel();
        var live = new Dictionary<long, long>();
        var progress = new TrainingProgressCallback(p => live[p.Step] = DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        new Trainer(config, new TrainerServices { Model = model, Progress = progress }).Run();
        Assert.Equal(live[2], live[5]);
    }

    [Fact]
    public void DreamBooth_output_loads_back_as_a_model_with_the_trained_weights()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.DreamBoothConfig(dir.Path, steps: 2) with { LearningRate = 1e-3 };
        using var model = TrainingTestKit.TinyModel();
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        var folder = Assert.Single(result.Outputs);
        Assert.Equal(Path.Combine(config.OutputDir!, "sks"), folder);
        using var loaded = StableDiffusionModels.Load(folder);
        TinyModels.AssertSameWeights(model, loaded);
    }

    [Fact]
    public void DreamBooth_writes_a_single_file_checkpoint_when_asked()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.DreamBoothConfig(dir.Path, steps: 1).With(DreamBoothMethod.SaveModelAs, "safetensors") with { SavePrecision = "fp16" };
        using var model = TrainingTestKit.TinyModel();
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        var file = Assert.Single(result.Outputs);
        Assert.Equal(Path.Combine(config.OutputDir!, "sks.safetensors"), file);
        using var raw = SdTune.Checkpoints.Safetensors.SafetensorsFile.Open(file);
        Assert.Contains(raw.Tensors, t => t.Name.StartsWith("model.diffusion_model.", StringComparison.Ordinal));
        Assert.All(raw.Tensors.Where(t => t.Name.StartsWith("model.diffusion_model.", StringComparison.Ordinal)),
            t => Assert.Equal(SdTune.Checkpoints.Safetensors.SafetensorsDType.F16, t.DType));
    }

    [Fact]
    public void DreamBooth_generates_missing_class_images_through_the_generator_or_asks_for_them()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.DreamBoothConfig(dir.Path, steps: 1).With(DreamBoothMethod.SaveModelAs, "diffusers") with { NumClassImages = 4 };
        using var model = TrainingTestKit.TinyModel();
        var error = Assert.Throws<TrainingConfigException>(() => new Trainer(config, new TrainerServices { Model = model }).Run());
        Assert.Equal("class_data_dir", error.Key);
        Assert.Contains("2 of the 4 class images", error.Message, StringComparison.Ordinal);

        var generator = new SolidImageGenerator();
        var result = new Trainer(config, new TrainerServices { Model = model, ImageGenerator = generator }).Run();
        var job = Assert.Single(generator.Calls);
        Assert.Equal(2, job.Count);
        Assert.All(job, j => Assert.Equal("a photo of a toy", j.Prompt.Prompt));
        Assert.All(job, j => Assert.NotNull(j.Prompt.Seed));
        Assert.Equal(4, ImageFiles.List(config.ClassDataDir!).Count);
        Assert.Contains(result.Warnings, w => w.Contains("Generated 2 class images", StringComparison.Ordinal));
    }

    [Fact]
    public void Sample_images_are_requested_every_n_steps_with_the_prompt_options()
    {
        using var dir = TestPaths.NewTempDir();
        var prompts = Path.Combine(dir.Path, "prompts.txt");
        File.WriteAllText(prompts, "# comment\na toy --w 32 --h 48 --s 4 --l 3.5 --d 77 --n blurry\n\nanother toy\n");
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 4) with { SampleEveryNSteps = 2, SamplePrompts = prompts };
        using var model = TrainingTestKit.TinyModel();
        var generator = new SolidImageGenerator();
        new Trainer(config, new TrainerServices { Model = model, ImageGenerator = generator }).Run();
        Assert.Equal(2, generator.Calls.Count); // steps 2 and 4 (the last step samples too)
        Assert.Matches(@"toy_000004_00_\d{14}_77\.png$", generator.Calls[1][0].OutputPath);
        var jobs = generator.Calls[0];
        Assert.Equal(new SamplePrompt("a toy", "blurry", 32, 48, 4, 3.5, 77), jobs[0].Prompt);
        Assert.Equal("another toy", jobs[1].Prompt.Prompt);
        Assert.NotNull(jobs[1].Prompt.Seed);
        Assert.Matches(@"toy_000002_00_\d{14}_77\.png$", jobs[0].OutputPath);
        Assert.Equal(Path.Combine(config.OutputDir!, "sample"), Path.GetDirectoryName(jobs[0].OutputPath));
        Assert.True(generator.SawEvalMode);
    }

    private sealed class PoisonedLatents(ILatentSource inner, Func<bool> poison) : ILatentSource
    {
        public Tensor GetLatents(TrainingBatch batch, Generator generator)
        {
            var latents = inner.GetLatents(batch, generator);
            if (poison())
            {
                latents.fill_(double.NaN);
            }

            return latents;
        }
    }

    private sealed class SolidImageGenerator : ISampleImageGenerator
    {
        public List<IReadOnlyList<SampleImageJob>> Calls { get; } = [];

        public bool SawEvalMode { get; private set; } = true;

        public void Generate(StableDiffusionModel model, IReadOnlyList<SampleImageJob> jobs, CancellationToken cancellationToken = default)
        {
            Calls.Add(jobs);
            SawEvalMode &= !model.Unet.training && !torch.is_grad_enabled();
            foreach (var job in jobs)
            {
                Data.DataTestFiles.Png(job.OutputPath, job.Prompt.Width ?? model.DefaultImageSize, job.Prompt.Height ?? model.DefaultImageSize);
            }
        }
    }
}
