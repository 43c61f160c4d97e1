using System.Text.Json.Nodes;
using SdTune.Models;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Models.Vae;
using SdTune.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Formats;

/// <summary>
/// Tiny Stable Diffusion models with random weights under the real tensor names, cheap enough to save and load in
/// well under a second. They start from the reference fixture configs and change only what a single-file checkpoint
/// cannot record, so the same model survives both formats:
/// <list type="bullet">
/// <item>GroupNorm groups are 32 (shapes cannot tell the group count; every SD family uses 32), so channels are
/// multiples of 32.</item>
/// <item>The UNet cross-attention width is the family's (768 SD 1.x, 2048 SDXL): single files are told apart by it.
/// The tiny text encoders are narrower; shapes are all these tests need, not a consistent pipeline.</item>
/// <item>Text encoders are 64 wide with 64-wide heads (1 head), the head size of every SD text encoder, from which the
/// single-file loader derives the head count. The vocabulary is the real 49408, so the real tokenizer fits.</item>
/// <item>The SDXL-like UNet has 64 and 128 channels: its derived head counts are channels / 64, as in SDXL.</item>
/// </list>
/// </summary>
internal static class TinyModels
{
    public static UNet2DConditionConfig Sd1UnetConfig()
    {
        var fixture = UNet2DConditionConfig.Load(TestPaths.Fixture("unet_sd1_tiny.config.json"));
        return fixture with { NormNumGroups = 32, CrossAttentionDim = [768, 768], SampleSize = 64 };
    }

    public static AutoencoderKLConfig VaeConfig(double scalingFactor = 0.18215)
    {
        var fixture = AutoencoderKLConfig.Load(TestPaths.Fixture("vae_tiny.config.json"));
        return fixture with { BlockOutChannels = [32, 64], NormNumGroups = 32, ScalingFactor = scalingFactor };
    }

    public static ClipTextConfig ClipLConfig()
    {
        var fixture = ClipTextConfig.FromJsonFile(TestPaths.Fixture("clip_text_tiny.config.json"));
        return fixture with { HiddenSize = 64, NumAttentionHeads = 1, IntermediateSize = 128 };
    }

    public static ClipTextConfig BigGConfig() =>
        ClipLConfig() with { HiddenAct = ClipActivation.Gelu, ProjectionDim = 32, PadTokenId = 0 };

    public static UNet2DConditionConfig SdxlUnetConfig() => new()
    {
        SampleSize = 128,
        DownBlockTypes = [UNet2DConditionConfig.PlainDownBlock, UNet2DConditionConfig.CrossAttnDownBlock],
        UpBlockTypes = [UNet2DConditionConfig.CrossAttnUpBlock, UNet2DConditionConfig.PlainUpBlock],
        BlockOutChannels = [64, 128],
        LayersPerBlock = [1, 1],
        CrossAttentionDim = [2048, 2048],
        TransformerLayersPerBlock = [1, 2],
        AttentionHeadDim = [1, 2],
        UseLinearProjection = true,
        AdditionEmbedType = "text_time",
        AdditionTimeEmbedDim = 8,
        ProjectionClassEmbeddingsInputDim = 32 + (6 * 8),
    };

    /// <summary>
    /// The reference fixtures' own tiny SD 1.x model, self-consistent as it is (UNet cross-attention 32 = CLIP width 32,
    /// GroupNorm 8), with uninitialised weights: the pipeline and training kits initialise it their own way.
    /// </summary>
    public static StableDiffusionModel FixtureSd1(string schedulerClass) => new(
        SdArchitecture.SD1,
        new UNet2DConditionModel(UNet2DConditionConfig.Load(TestPaths.Fixture("unet_sd1_tiny.config.json"))),
        new AutoencoderKL(AutoencoderKLConfig.Load(TestPaths.Fixture("vae_tiny.config.json"))),
        new ClipTextModel(ClipTextConfig.FromJsonFile(TestPaths.Fixture("clip_text_tiny.config.json"))),
        ClipTokenizer.CreateDefault(),
        null,
        null,
        DefaultScheduler(schedulerClass),
        PredictionType.Epsilon);

    public static StableDiffusionModel Sd1(int seed = 1)
    {
        var model = new StableDiffusionModel(
            SdArchitecture.SD1,
            new UNet2DConditionModel(Sd1UnetConfig()),
            new AutoencoderKL(VaeConfig()),
            new ClipTextModel(ClipLConfig()),
            ClipTokenizer.CreateDefault(),
            null,
            null,
            DefaultScheduler("PNDMScheduler"),
            PredictionType.Epsilon);
        Randomise(model, seed);
        return model;
    }

    public static StableDiffusionModel Sdxl(int seed = 2)
    {
        var model = new StableDiffusionModel(
            SdArchitecture.SdxlBase,
            new UNet2DConditionModel(SdxlUnetConfig()),
            new AutoencoderKL(VaeConfig(0.13025)),
            new ClipTextModel(ClipLConfig()),
            ClipTokenizer.CreateDefault(),
            new ClipTextModelWithProjection(BigGConfig()),
            ClipTokenizer.CreateDefault(ClipPadding.Zero),
            DefaultScheduler("EulerDiscreteScheduler"),
            PredictionType.Epsilon);
        Randomise(model, seed);
        return model;
    }

    public static JsonObject DefaultScheduler(string className) => new()
    {
        ["_class_name"] = className,
        ["beta_start"] = 0.00085,
        ["beta_end"] = 0.012,
        ["beta_schedule"] = "scaled_linear",
        ["num_train_timesteps"] = 1000,
    };

    /// <summary>Every tensor gets distinct random values (GroupNorm weights included, which TorchSharp leaves uninitialised).</summary>
    public static void Randomise(StableDiffusionModel model, int seed)
    {
        var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var (_, module) in Components(model))
        {
            foreach (var (_, parameter) in module.named_parameters())
            {
                using var values = randn(parameter.shape, generator: generator);
                parameter.copy_(values);
            }
        }
    }

    /// <summary>
    /// Random weights at sensible scales (the fixtures' rule: matrices r/sqrt(fan_in), norm weights 1 + 0.1r,
    /// biases 0.1r), so a tiny model's activations stay finite through sampling.
    /// </summary>
    public static StableDiffusionModel WithReferenceScaledWeights(StableDiffusionModel model, int seed)
    {
        var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var (_, module) in Components(model))
        {
            foreach (var (name, parameter) in module.named_parameters())
            {
                using var r = randn(parameter.shape, generator: generator);
                using var values = parameter.dim() >= 2
                    ? r / Math.Sqrt(parameter.shape.Skip(1).Aggregate(1L, (a, b) => a * b))
                    : name.EndsWith("weight", StringComparison.Ordinal) ? 1 + (0.1 * r) : 0.1 * r;
                parameter.copy_(values);
            }
        }

        return model;
    }

    public static IEnumerable<(string Name, nn.Module Module)> Components(StableDiffusionModel model)
    {
        yield return ("unet", model.Unet);
        yield return ("vae", model.Vae);
        yield return ("text_encoder", model.TextEncoder);
        if (model.TextEncoder2 is not null)
        {
            yield return ("text_encoder_2", model.TextEncoder2);
        }
    }

    /// <summary>Asserts every tensor of every component has the same name, shape, type and bits.</summary>
    public static void AssertSameWeights(StableDiffusionModel expected, StableDiffusionModel actual, ScalarType? convertExpectedTo = null)
    {
        Assert.Equal(expected.Architecture, actual.Architecture);
        var expectedComponents = Components(expected).ToList();
        var actualComponents = Components(actual).ToList();
        Assert.Equal(expectedComponents.Select(c => c.Name), actualComponents.Select(c => c.Name));
        for (var i = 0; i < expectedComponents.Count; i++)
        {
            var name = expectedComponents[i].Name;
            var e = expectedComponents[i].Module.state_dict();
            var a = actualComponents[i].Module.state_dict();
            Assert.Equal(e.Keys.ToList(), a.Keys.ToList());
            foreach (var (key, tensor) in e)
            {
                using var scope = NewDisposeScope();
                var want = convertExpectedTo is { } t && tensor.is_floating_point() ? tensor.to(t) : tensor;
                var got = a[key];
                Assert.True(want.dtype == got.dtype, $"{name}:{key} is {got.dtype}, expected {want.dtype}");
                Assert.Equal(want.shape, got.shape);
                Assert.True(want.equal(got).all().item<bool>(), $"{name}:{key} differs");
            }
        }
    }

    public static Dictionary<string, byte[]> Snapshot(string folder) =>
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllBytes);
}
