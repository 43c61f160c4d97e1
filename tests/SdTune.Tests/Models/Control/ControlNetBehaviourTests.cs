using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using SdTune.Models.Control;
using SdTune.Models.Layers;
using SdTune.Models.Unet;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Tests.Models.Control;

/// <summary>ControlNet forward semantics on the tiny SD 1.x fixture UNet (2 levels, 32/64 channels, 16x16 latents).</summary>
public class ControlNetBehaviourTests
{
    /// <summary>Two embedding widths: one stride-2 step, so the conditioning image is twice the latent size.</summary>
    internal static readonly int[] TinyEmbedding = [8, 16];

    internal static UNet2DConditionModel FixtureUnet()
    {
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("unet_sd1_tiny.safetensors"));
        var unet = new UNet2DConditionModel(UNet2DConditionConfig.Load(TestPaths.Fixture("unet_sd1_tiny.config.json")));
        ModuleWeights.Load(unet, fixture, ignore: ModelTestUtil.IsFixtureData);
        unet.eval();
        return unet;
    }

    /// <summary>Random values in every zero-initialised tensor, so the residuals are not zero.</summary>
    internal static void Randomise(ControlNetModel controlnet, int seed)
    {
        var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var (name, parameter) in controlnet.named_parameters())
        {
            if (name.StartsWith("controlnet_", StringComparison.Ordinal))
            {
                parameter.copy_(randn(parameter.shape, generator: generator) * 0.1);
            }
        }
    }

    private static (Tensor Sample, Tensor Timestep, Tensor Context, Tensor Image) Inputs(int seed = 3)
    {
        var generator = new Generator((ulong)seed);
        return (randn([2, 4, 16, 16], generator: generator), tensor(new long[] { 900, 20 }), randn([2, 5, 32], generator: generator), rand([2, 3, 32, 32], generator: generator));
    }

    [Fact]
    public void Fresh_controlnet_from_the_unet_leaves_the_unet_output_exactly_unchanged()
    {
        using var unet = FixtureUnet();
        using var controlnet = ControlNetModel.FromUnet(unet, TinyEmbedding);
        controlnet.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (sample, t, context, image) = Inputs();

        using var residuals = controlnet.forward(sample, t, context, image);
        var plain = unet.forward(sample, t, context);
        var controlled = unet.forward(sample, t, context, null, residuals.DownBlockResiduals, residuals.MidBlockResidual);

        Assert.Equal(unet.SkipConnectionCount, residuals.DownBlockResiduals.Count);
        Assert.All(residuals.DownBlockResiduals, r => Assert.Equal(0f, r.abs().max().item<float>()));
        Assert.Equal(0f, residuals.MidBlockResidual.abs().max().item<float>());
        Assert.True(plain.eq(controlled).all().item<bool>());
    }

    [Fact]
    public void From_unet_copies_the_encoder_so_identity_zero_convs_return_the_unet_skips()
    {
        using var unet = FixtureUnet();
        using var controlnet = ControlNetModel.FromUnet(unet, TinyEmbedding);
        controlnet.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var (name, parameter) in controlnet.named_parameters())
        {
            if (name.StartsWith("controlnet_down_blocks.", StringComparison.Ordinal) || name.StartsWith("controlnet_mid_block.", StringComparison.Ordinal))
            {
                parameter.copy_(name.EndsWith("weight", StringComparison.Ordinal) ? eye(parameter.shape[0]).reshape(parameter.shape) : zeros(parameter.shape));
            }
        }

        var (sample, t, context, image) = Inputs();
        using var residuals = controlnet.forward(sample, t, context, image);

        // The UNet's own down path, run from its parts.
        var parts = unet.named_children().ToDictionary(c => c.name, c => c.module);
        var emb = UNetInputs.TimeEmbedding((Timesteps)parts["time_proj"], (TimestepEmbedding)parts["time_embedding"], null, null, sample, t, null);
        var x = ((Conv2d)parts["conv_in"]).call(sample);
        var skips = new List<Tensor> { x };
        foreach (var block in (ModuleList<UNetDownBlock>)parts["down_blocks"])
        {
            (x, var s) = block.forward(x, emb, context, null);
            skips.AddRange(s);
        }

        var mid = ((UNetMidBlock2DCrossAttn)parts["mid_block"]).forward(x, emb, context);
        Assert.Equal(skips.Count, residuals.DownBlockResiduals.Count);
        for (var i = 0; i < skips.Count; i++)
        {
            Assert.True((skips[i] - residuals.DownBlockResiduals[i]).abs().max().item<float>() < 1e-5, $"skip {i}");
        }

        Assert.True((mid - residuals.MidBlockResidual).abs().max().item<float>() < 1e-5);
    }

    [Fact]
    public void Conditioning_embedding_matches_an_independent_computation_and_is_added_after_conv_in()
    {
        using var unet = FixtureUnet();
        using var controlnet = ControlNetModel.FromUnet(unet, TinyEmbedding);
        Randomise(controlnet, 5);
        controlnet.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (sample, t, context, image) = Inputs();
        var w = controlnet.state_dict();

        // Documented structure: conv_in 3x3, SiLU, (3x3, SiLU, 3x3 stride 2, SiLU) per width step, conv_out 3x3.
        Tensor Conv(Tensor input, string name, long stride = 1) =>
            nn.functional.conv2d(input.to(ScalarType.Float64), w[name + ".weight"].to(ScalarType.Float64), w[name + ".bias"].to(ScalarType.Float64), strides: [stride, stride], padding: [1, 1]);
        var e = nn.functional.silu(Conv(image, "controlnet_cond_embedding.conv_in"));
        e = nn.functional.silu(Conv(e, "controlnet_cond_embedding.blocks.0"));
        e = nn.functional.silu(Conv(e, "controlnet_cond_embedding.blocks.1", 2));
        e = Conv(e, "controlnet_cond_embedding.conv_out");
        var first = Conv(sample, "conv_in") + e;
        var expected = nn.functional.conv2d(first, w["controlnet_down_blocks.0.weight"].to(ScalarType.Float64), w["controlnet_down_blocks.0.bias"].to(ScalarType.Float64));

        using var residuals = controlnet.forward(sample, t, context, image, conditioningScale: 0.75);

        var error = (residuals.DownBlockResiduals[0].to(ScalarType.Float64) - (0.75 * expected)).abs().max().item<double>();
        Assert.True(error < 1e-5, $"first residual differs from the float64 computation by {error}");
    }

    [Fact]
    public void Residuals_scale_linearly_with_the_conditioning_scale()
    {
        using var unet = FixtureUnet();
        using var controlnet = ControlNetModel.FromUnet(unet, TinyEmbedding);
        Randomise(controlnet, 7);
        controlnet.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (sample, t, context, image) = Inputs();

        using var one = controlnet.forward(sample, t, context, image);
        using var scaled = controlnet.forward(sample, t, context, image, conditioningScale: 2.5);

        foreach (var (a, b) in one.DownBlockResiduals.Append(one.MidBlockResidual).Zip(scaled.DownBlockResiduals.Append(scaled.MidBlockResidual)))
        {
            Assert.True(a.abs().max().item<float>() > 1e-4);
            Assert.True((b - (2.5 * a)).abs().max().item<float>() <= 1e-5 * a.abs().max().item<float>());
        }
    }

    [Fact]
    public void Guess_mode_scales_go_geometrically_from_a_tenth_to_one()
    {
        var scales = ControlNetModel.ResidualScales(12, 1.0, guessMode: true);
        Assert.Equal(13, scales.Length);
        Assert.Equal(0.1, scales[0], 12);
        Assert.Equal(1.0, scales[^1], 12);
        Assert.All(scales.Zip(scales.Skip(1)), p => Assert.Equal(Math.Pow(10, 1.0 / 12), p.Second / p.First, 12));
        Assert.All(ControlNetModel.ResidualScales(12, 0.5, guessMode: false), s => Assert.Equal(0.5, s));

        using var unet = FixtureUnet();
        using var controlnet = ControlNetModel.FromUnet(unet, TinyEmbedding);
        Randomise(controlnet, 9);
        controlnet.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (sample, t, context, image) = Inputs();
        using var plain = controlnet.forward(sample, t, context, image, conditioningScale: 0.8);
        using var guess = controlnet.forward(sample, t, context, image, conditioningScale: 0.8, guessMode: true);
        var n = plain.DownBlockResiduals.Count;
        for (var i = 0; i < n; i++)
        {
            var expected = plain.DownBlockResiduals[i] * Math.Pow(10, -1.0 + ((double)i / n));
            Assert.True((guess.DownBlockResiduals[i] - expected).abs().max().item<float>() < 1e-6, $"residual {i}");
        }

        Assert.True((guess.MidBlockResidual - plain.MidBlockResidual).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void Non_zero_residuals_change_the_unet_output_and_add_to_the_skips()
    {
        // One level: skips are conv_in and one resnet; no down- or upsampling, so the sum is easy to follow.
        const string OneBlock = """{"down_block_types": ["CrossAttnDownBlock2D"], "up_block_types": ["CrossAttnUpBlock2D"], "block_out_channels": [32], "layers_per_block": 1, "attention_head_dim": 4, "cross_attention_dim": 16, "norm_num_groups": 8}""";
        manual_seed(21);
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.Parse(OneBlock, "one-block config"));
        unet.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new Generator(4);
        var sample = randn([1, 4, 8, 8], generator: generator);
        var context = randn([1, 3, 16], generator: generator);
        var t = tensor(300L);
        Tensor[] down = [randn([1, 32, 8, 8], generator: generator), randn([1, 32, 8, 8], generator: generator)];
        var midResidual = randn([1, 32, 8, 8], generator: generator);

        var actual = unet.forward(sample, t, context, null, down, midResidual);

        var parts = unet.named_children().ToDictionary(c => c.name, c => c.module);
        var emb = UNetInputs.TimeEmbedding((Timesteps)parts["time_proj"], (TimestepEmbedding)parts["time_embedding"], null, null, sample, t, null);
        var h0 = ((Conv2d)parts["conv_in"]).call(sample);
        var (h, skips) = ((ModuleList<UNetDownBlock>)parts["down_blocks"])[0].forward(h0, emb, context, null);
        var mid = ((UNetMidBlock2DCrossAttn)parts["mid_block"]).forward(h, emb, context) + midResidual;
        var up = ((ModuleList<UNetUpBlock>)parts["up_blocks"])[0].forward(mid, [h0 + down[0], skips[0] + down[1]], emb, context, null);
        var expected = ((Conv2d)parts["conv_out"]).call(nn.functional.silu(((GroupNorm)parts["conv_norm_out"]).call(up)));

        Assert.True((actual - unet.forward(sample, t, context)).abs().max().item<float>() > 1e-3);
        Assert.True((actual - expected).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void Bgr_order_flips_the_image_channels()
    {
        using var unet = FixtureUnet();
        using var rgb = ControlNetModel.FromUnet(unet, TinyEmbedding);
        using var bgr = ControlNetModel.FromUnet(unet, TinyEmbedding, conditioningChannelOrder: "bgr");
        Randomise(rgb, 2);
        bgr.load_state_dict(rgb.state_dict());
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (sample, t, context, image) = Inputs();

        using var a = rgb.forward(sample, t, context, image.flip(1));
        using var b = bgr.forward(sample, t, context, image);

        Assert.True(a.MidBlockResidual.eq(b.MidBlockResidual).all().item<bool>());
    }

    [Fact]
    public void Wrong_inputs_and_a_controlnet_for_another_unet_give_errors_naming_the_option()
    {
        using var unet = FixtureUnet();
        using var controlnet = ControlNetModel.FromUnet(unet, TinyEmbedding);
        using var scope = NewDisposeScope();
        var (sample, t, context, image) = Inputs();

        var channels = Assert.Throws<ArgumentException>(() => controlnet.forward(sample, t, context, image[.., ..1]));
        Assert.Contains("conditioning_channels", channels.Message, StringComparison.Ordinal);
        var size = Assert.Throws<ArgumentException>(() => controlnet.forward(sample, t, context, rand(2, 3, 16, 16)));
        Assert.Contains("32, 32", size.Message, StringComparison.Ordinal);

        var wider = UNet2DConditionConfig.Load(TestPaths.Fixture("unet_sd1_tiny.config.json")) with { BlockOutChannels = [32, 96] };
        using var other = new ControlNetModel(ControlNetConfig.FromUnet(wider, TinyEmbedding));
        var fit = Assert.Throws<CheckpointFormatException>(() => other.EnsureFits(unet.Config, "my-controlnet.safetensors"));
        Assert.Contains("my-controlnet.safetensors", fit.Message, StringComparison.Ordinal);
        Assert.Contains("block_out_channels is [32, 96] but the UNet's is [32, 64]", fit.Message, StringComparison.Ordinal);
        controlnet.EnsureFits(unet.Config, "fits");

        using var noGrad = no_grad();
        using var residuals = other.forward(sample, t, context, image);
        var mismatch = Assert.Throws<ArgumentException>(() => unet.forward(sample, t, context, null, residuals.DownBlockResiduals, residuals.MidBlockResidual));
        Assert.Contains("downBlockAdditionalResiduals[4]", mismatch.Message, StringComparison.Ordinal);
    }
}
