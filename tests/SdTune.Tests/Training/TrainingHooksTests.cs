using SdTune.Training;
using SdTune.Training.Data;
using SdTune.Training.Methods;
using SdTune.Training.Optimization;
using static TorchSharp.torch;

namespace SdTune.Tests.Training;

/// <summary>The hooks a method uses without trainer changes: a loss regulariser, UNet residuals from paired condition images, step hooks.</summary>
public class TrainingHooksTests
{
    [Fact]
    public void A_loss_regulariser_is_added_to_every_step_loss()
    {
        using var dir = TestPaths.NewTempDir();
        var plain = Train(TrainingTestKit.LoraConfig(dir.Path, steps: 3), new Hooks());
        var regularised = Train(TrainingTestKit.LoraConfig(dir.Path, steps: 3) with { OutputDir = dir.File("reg") }, new Hooks { Regularizer = () => tensor(0.25f) });
        Assert.Equal(3, plain.LossHistory.Count);
        for (var i = 0; i < 3; i++)
        {
            // A constant has no gradient: the weights, and so the next step's plain loss, stay the same.
            Assert.Equal(plain.LossHistory[i] + 0.25, regularised.LossHistory[i], 5);
        }
    }

    [Fact]
    public void Step_hooks_see_where_the_run_is()
    {
        using var dir = TestPaths.NewTempDir();
        var seen = new List<TrainingStepInfo>();
        Train(TrainingTestKit.LoraConfig(dir.Path, steps: 4), new Hooks { BeforeStep = seen.Add });
        Assert.Equal([0.0, 0.25, 0.5, 0.75], seen.Select(s => s.Fraction));
        Assert.Equal([true, false, true, false], seen.Select(s => s.IsEvery(2)));
    }

    [Fact]
    public void Unet_residuals_are_computed_from_each_samples_condition_image_and_change_the_prediction()
    {
        using var dir = TestPaths.NewTempDir();
        var images = TrainingTestKit.Images(dir.File("data"), 2, "a toy");
        var conditions = TrainingTestKit.Images(dir.File("conditions"), 2, "unused", colorSeed: 3);
        File.WriteAllText(dir.File("dataset.toml"), "[[datasets]]\nresolution = 32\nbatch_size = 2\n\n  [[datasets.subsets]]\n  image_dir = \"data\"\n  conditioning_data_dir = \"conditions\"\n  caption_extension = \".caption\"\n");
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 2) with { TrainDataDir = null, DatasetConfig = dir.File("dataset.toml") };
        var seenImages = new List<string>();
        int channels, blocks;
        using (var model = TrainingTestKit.TinyModel())
        {
            channels = model.Unet.Config.BlockOutChannels[^1];
            blocks = model.Unet.Config.BlockOutChannels.Count;
        }

        var hooks = new Hooks
        {
            Residuals = inputs =>
            {
                var reader = new ImageFileReader();
                foreach (var sample in inputs.Batch.Samples)
                {
                    seenImages.Add(Path.GetFileName(sample.ConditioningImagePath!));
                    using var pixels = sample.LoadConditioningImage(reader);
                    Assert.Equal([3L, 32, 32], pixels.shape);
                    Assert.True(pixels.min().item<float>() >= 0 && pixels.max().item<float>() <= 1);
                }

                // The mid block sees the latents halved once per down block but the last.
                var shape = inputs.NoisyLatents.shape;
                return new UNetResiduals(null, full([shape[0], channels, shape[2] >> (blocks - 1), shape[3] >> (blocks - 1)], 3.0f), null);
            },
        };

        var without = Train(config, new Hooks());
        var with = Train(config with { OutputDir = dir.File("residual") }, hooks);
        Assert.Equal(4, seenImages.Count);
        Assert.All(seenImages, name => Assert.Matches("^img0[01]\\.png$", name));
        Assert.NotEqual(without.LossHistory[0], with.LossHistory[0]);
        Assert.True(Directory.Exists(images));
        Assert.True(Directory.Exists(conditions));
    }

    [Fact]
    public void A_missing_condition_image_is_named()
    {
        using var dir = TestPaths.NewTempDir();
        TrainingTestKit.Images(dir.File("data"), 2, "a toy");
        TrainingTestKit.Images(dir.File("conditions"), 1, "unused");
        File.WriteAllText(dir.File("dataset.toml"), "[[datasets]]\nresolution = 32\n\n  [[datasets.subsets]]\n  image_dir = \"data\"\n  conditioning_data_dir = \"conditions\"\n");
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 1) with { TrainDataDir = null, DatasetConfig = dir.File("dataset.toml") };
        using var model = TrainingTestKit.TinyModel();
        var e = Assert.Throws<DatasetConfigException>(() => new Trainer(config, new TrainerServices { Model = model }).Run());
        Assert.Contains("img01.png", e.Message, StringComparison.Ordinal);
        Assert.Contains("conditioning_data_dir", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_method_adds_a_token_and_trains_only_its_embedding_row()
    {
        using var dir = TestPaths.NewTempDir();
        TrainingTestKit.Images(dir.File("train/2_toy"), 2, "a <zzcat> toy");
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 2) with { TrainDataDir = dir.File("train"), LearningRate = 1e-2 };
        using var model = TrainingTestKit.TinyModel();
        var table = model.TextEncoder.TokenEmbedding.weight!.detach().clone();
        var method = new AddedTokenMethod();
        var result = new Trainer(config, new TrainerServices { Model = model, Method = method }).Run();

        Assert.Equal(2, result.Steps);
        Assert.False(method.Initial!.equal(method.Rows!.detach()).all().item<bool>(), "the added row did not move");
        Assert.True(table.equal(model.TextEncoder.TokenEmbedding.weight!).all().item<bool>(), "the vocabulary's rows moved");
    }

    /// <summary>A textual-inversion-like method: one token added in Prepare, its embedding row the only trained weight.</summary>
    private sealed class AddedTokenMethod : ITrainingMethod
    {
        public Tensor? Initial { get; private set; }

        public TorchSharp.Modules.Parameter? Rows { get; private set; }

        public string Name => "added-token";

        // The row's gradient flows through the text encoder.
        public bool TrainsTextEncoder => true;

        public IReadOnlyList<ParameterGroup> Prepare(TrainingContext context)
        {
            var model = context.Model;
            model.Tokenizer.AddToken("<zzcat>");
            Initial = model.TextEncoder.TokenEmbedding.weight![model.Tokenizer.Encode("cat")[0]].unsqueeze(0).detach().clone();
            Rows = model.TextEncoder.AddTokenRows(Initial);
            return [new ParameterGroup("text_encoder", [Rows], context.Config.LearningRate)];
        }

        public void SetTrainingMode(bool training)
        {
        }

        public void BeforeStep(TrainingStepInfo step)
        {
        }

        public void AfterStep(TrainingStepInfo step)
        {
        }

        public Tensor ReduceLoss(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples) => perSampleLoss.mean();

        public IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info) => [];

        public IReadOnlyList<KeyValuePair<string, Tensor>> GetState() => [new("rows", Rows!.detach().clone())];

        public void LoadState(IReadOnlyDictionary<string, Tensor> state)
        {
        }

        public void Dispose()
        {
        }
    }

    private static TrainingResult Train(TrainingConfig config, Hooks hooks)
    {
        using var model = TrainingTestKit.TinyModel();
        return new Trainer(config, new TrainerServices { Model = model, Method = new HookedMethod(TrainingMethods.Create("lora"), hooks) }).Run();
    }

    private sealed class Hooks
    {
        public Func<Tensor>? Regularizer { get; init; }

        public Func<UNetResidualInputs, UNetResiduals?>? Residuals { get; init; }

        public Action<TrainingStepInfo>? BeforeStep { get; init; }
    }

    /// <summary>A method that adds test hooks to another.</summary>
    private sealed class HookedMethod(ITrainingMethod inner, Hooks hooks) : ITrainingMethod
    {
        public string Name => inner.Name;

        public bool TrainsTextEncoder => inner.TrainsTextEncoder;

        public IReadOnlyList<ParameterGroup> Prepare(TrainingContext context) => inner.Prepare(context);

        public void SetTrainingMode(bool training) => inner.SetTrainingMode(training);

        public void BeforeStep(TrainingStepInfo step)
        {
            hooks.BeforeStep?.Invoke(step);
            inner.BeforeStep(step);
        }

        public void AfterStep(TrainingStepInfo step) => inner.AfterStep(step);

        public Tensor ReduceLoss(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples) => inner.ReduceLoss(perSampleLoss, samples);

        public UNetResiduals? UNetResiduals(UNetResidualInputs inputs) => hooks.Residuals?.Invoke(inputs);

        public Tensor? LossRegularizer() => hooks.Regularizer?.Invoke();

        public IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info) => inner.SaveOutput(folder, name, info);

        public IReadOnlyList<KeyValuePair<string, Tensor>> GetState() => inner.GetState();

        public void LoadState(IReadOnlyDictionary<string, Tensor> state) => inner.LoadState(state);

        public void Dispose() => inner.Dispose();
    }
}
