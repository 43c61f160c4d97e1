using SdTune.Models;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Models.Vae;
using SdTune.Tests.Checkpoints.Formats;
using SdTune.Tests.Training.Data;
using SdTune.Text;
using SdTune.Training;
using SdTune.Training.Methods;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Training;

/// <summary>
/// A consistent tiny SD 1.x model from the reference fixture configs (UNet cross-attention width = text encoder width =
/// 32, GroupNorm 8) with seeded fan-in weights, and tiny 32x32 image sets with captions.
/// </summary>
internal static class TrainingTestKit
{
    public static StableDiffusionModel TinyModel(int seed = 7)
    {
        var model = TinyModels.FixtureSd1("DDPMScheduler");
        Initialise(model, seed);
        return model;
    }

    /// <summary>A consistent tiny SDXL model: UNet cross-attention = 32 + 32 (both encoders side by side), added embedding = 16 + 6·8.</summary>
    /// <param name="seed">Seeds the weights.</param>
    /// <param name="threeBlocks">Three down blocks (plain, cross-attention, cross-attention) as SDXL's, instead of two.</param>
    public static StableDiffusionModel TinySdxl(int seed = 8, bool threeBlocks = false)
    {
        var clip = ClipTextConfig.FromJsonFile(TestPaths.Fixture("clip_text_tiny.config.json"));
        var unet = TinyModels.SdxlUnetConfig() with { CrossAttentionDim = [64, 64], ProjectionClassEmbeddingsInputDim = 16 + (6 * 8) };
        if (threeBlocks)
        {
            unet = unet with
            {
                DownBlockTypes = [UNet2DConditionConfig.PlainDownBlock, UNet2DConditionConfig.CrossAttnDownBlock, UNet2DConditionConfig.CrossAttnDownBlock],
                UpBlockTypes = [UNet2DConditionConfig.CrossAttnUpBlock, UNet2DConditionConfig.CrossAttnUpBlock, UNet2DConditionConfig.PlainUpBlock],
                BlockOutChannels = [32, 64, 64],
                LayersPerBlock = [1, 1, 1],
                CrossAttentionDim = [64, 64, 64],
                TransformerLayersPerBlock = [1, 1, 1],
                AttentionHeadDim = [1, 2, 2],
            };
        }

        var model = new StableDiffusionModel(
            SdArchitecture.SdxlBase,
            new UNet2DConditionModel(unet),
            new AutoencoderKL(AutoencoderKLConfig.Load(TestPaths.Fixture("vae_tiny.config.json")) with { ScalingFactor = 0.13025 }),
            new ClipTextModel(clip),
            ClipTokenizer.CreateDefault(),
            new ClipTextModelWithProjection(clip with { HiddenAct = ClipActivation.Gelu, PadTokenId = 0 }),
            ClipTokenizer.CreateDefault(ClipPadding.Zero),
            TinyModels.DefaultScheduler("EulerDiscreteScheduler"),
            PredictionType.Epsilon);
        Initialise(model, seed);
        return model;
    }

    /// <summary>Seeded weights: N(0, 1/fan_in) for matrices and kernels, 1 for norm scales, 0 for biases.</summary>
    public static void Initialise(StableDiffusionModel model, int seed)
    {
        var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var (_, module) in TinyModels.Components(model))
        {
            foreach (var (name, p) in module.named_parameters())
            {
                using var scope = NewDisposeScope();
                if (p.dim() >= 2)
                {
                    var fanIn = p.shape.Skip(1).Aggregate(1L, (a, b) => a * b);
                    p.copy_(randn(p.shape, generator: generator) / Math.Sqrt(fanIn));
                }
                else if (name.EndsWith("bias", StringComparison.Ordinal))
                {
                    p.zero_();
                }
                else
                {
                    p.fill_(1.0);
                }
            }
        }
    }

    /// <summary>Trains <paramref name="config"/> on a <see cref="TinyModel"/>: the mean loss of the last 3 steps is below 80% of the first 3's.</summary>
    public static void AssertTrainingLowersTheLoss(TrainingConfig config)
    {
        using var model = TinyModel();
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        var first = result.LossHistory.Take(3).Average();
        var last = result.LossHistory.TakeLast(3).Average();
        Assert.True(last < 0.8 * first, $"loss went from {first} to {last}: {string.Join(", ", result.LossHistory)}");
    }

    /// <summary>Writes images with distinct patterns and captions into <paramref name="folder"/>.</summary>
    public static string Images(string folder, int count, string caption, int size = 32, int colorSeed = 0)
    {
        Directory.CreateDirectory(folder);
        for (var i = 0; i < count; i++)
        {
            var k = i + colorSeed;
            var path = Path.Combine(folder, $"img{i:D2}.png");
            DataTestFiles.Png(path, size, size, new SKColor((byte)(40 + (k * 50 % 200)), (byte)(200 - (k * 30 % 150)), (byte)(90 + (k * 70 % 160))), new SKColor((byte)(k * 90 % 255), 30, 200));
            File.WriteAllText(Path.ChangeExtension(path, ".caption"), $"{caption}, picture {i}");
        }

        return folder;
    }

    /// <summary>
    /// The image size diffusers' pipelines default to for the fixture models (<see cref="TinyModel"/> and the pipeline
    /// tests' models): <c>unet.config.sample_size * 2 ** (len(vae.config.block_out_channels) - 1)</c>, read from the
    /// reference configs.
    /// </summary>
    public static int FixtureModelSize()
    {
        using var unet = System.Text.Json.JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("unet_sd1_tiny.config.json")));
        using var vae = System.Text.Json.JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("vae_tiny.config.json")));
        return unet.RootElement.GetProperty("sample_size").GetInt32() << (vae.RootElement.GetProperty("block_out_channels").GetArrayLength() - 1);
    }

    /// <summary>
    /// A kohya dataset TOML in <paramref name="root"/> with one dataset of 3 images captioned in <c>.txt</c> files
    /// (<c>caption_extension</c> set in <c>[general]</c>) and <paramref name="datasetKeys"/> in its <c>[[datasets]]</c> block.
    /// </summary>
    public static string CaptionedDatasetToml(string root, string datasetKeys)
    {
        var images = Images(Path.Combine(root, "data", "2_red circle"), 3, "a red circle");
        foreach (var caption in Directory.GetFiles(images, "*.caption"))
        {
            File.Move(caption, Path.ChangeExtension(caption, ".txt"));
        }

        var path = Path.Combine(root, "dataset.toml");
        File.WriteAllText(path, $"[general]\ncaption_extension = \".txt\"\n\n[[datasets]]\n{datasetKeys}\n\n  [[datasets.subsets]]\n  image_dir = \"data/2_red circle\"\n  num_repeats = 2\n");
        return path;
    }

    /// <summary>A LoRA configuration on the folder convention: train_data_dir/2_toy with 4 images.</summary>
    public static TrainingConfig LoraConfig(string root, int steps = 4) => new TrainingConfig
    {
        Method = "lora",
        PretrainedModel = "tiny-model",
        OutputDir = Path.Combine(root, "out"),
        OutputName = "toy",
        TrainDataDir = Path.GetDirectoryName(Images(Path.Combine(root, "train", "2_toy"), 4, "a toy"))!,
        Resolution = "32",
        TrainBatchSize = 2,
        LearningRate = 1e-2,
        MaxTrainSteps = steps,
        Seed = 1234,
    }.With(LoraMethod.NetworkDim, 4).With(LoraMethod.NetworkAlpha, 4.0);

    /// <summary>A DreamBooth configuration with prior preservation: 2 instance images, 2 class images.</summary>
    public static TrainingConfig DreamBoothConfig(string root, int steps = 4) => new()
    {
        Method = "dreambooth",
        PretrainedModel = "tiny-model",
        OutputDir = Path.Combine(root, "out"),
        OutputName = "sks",
        InstanceDataDir = Images(Path.Combine(root, "instance"), 2, "x"),
        InstancePrompt = "a photo of sks toy",
        ClassDataDir = Images(Path.Combine(root, "class"), 2, "x", colorSeed: 5),
        ClassPrompt = "a photo of a toy",
        WithPriorPreservation = true,
        NumClassImages = 2,
        PriorLossWeight = 0.5,
        Resolution = "32",
        TrainBatchSize = 1,
        LearningRate = 1e-4,
        MaxTrainSteps = steps,
        Seed = 99,
    };

    /// <summary>Copies of the base model's weights (UNet as "unet.*", text encoder as "te.*", and with the VAE "vae.*").</summary>
    public static Dictionary<string, Tensor> BaseWeights(StableDiffusionModel model, bool withVae = false) =>
        Snapshot(model.Unet.state_dict().Select(kv => new KeyValuePair<string, Tensor>("unet." + kv.Key, kv.Value))
            .Concat(model.TextEncoder.state_dict().Select(kv => new KeyValuePair<string, Tensor>("te." + kv.Key, kv.Value)))
            .Concat(withVae ? model.Vae.state_dict().Select(kv => new KeyValuePair<string, Tensor>("vae." + kv.Key, kv.Value)) : []));

    /// <summary>Trains <paramref name="model"/> with <paramref name="config"/> and checks its base weights came back bit for bit.</summary>
    public static TrainingResult RunKeepingBase(TrainingConfig config, StableDiffusionModel model, bool withVae = false)
    {
        var before = BaseWeights(model, withVae);
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        AssertBitIdentical(before, BaseWeights(model, withVae));
        return result;
    }

    public static Dictionary<string, Tensor> Snapshot(IEnumerable<KeyValuePair<string, Tensor>> state) =>
        state.ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone(), StringComparer.Ordinal);

    public static void AssertBitIdentical(IReadOnlyDictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, e) in expected)
        {
            var a = actual[name];
            Assert.True(e.dtype == a.dtype && e.shape.SequenceEqual(a.shape), $"{name}: {a.dtype}/{string.Join("x", a.shape)} vs {e.dtype}/{string.Join("x", e.shape)}");
            Assert.True(e.equal(a).all().item<bool>(), $"{name} differs");
        }
    }
}
