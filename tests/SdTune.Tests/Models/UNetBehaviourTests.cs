using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.Models.Layers;
using SdTune.Models.Unet;
using SdTune.Models.Vae;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Models;

public class UNetBehaviourTests
{
    /// <summary>SDXL's shape in miniature: no attention at level 0, text_time added conditioning, transformer depth per level, linear projections.</summary>
    private const string TinySdxlConfig = """
        {
          "_class_name": "UNet2DConditionModel",
          "sample_size": 16,
          "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
          "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
          "block_out_channels": [16, 32, 64],
          "layers_per_block": 1,
          "attention_head_dim": [1, 2, 4],
          "transformer_layers_per_block": [1, 2, 3],
          "cross_attention_dim": 24,
          "norm_num_groups": 8,
          "use_linear_projection": true,
          "upcast_attention": null,
          "addition_embed_type": "text_time",
          "addition_time_embed_dim": 8,
          "projection_class_embeddings_input_dim": 60
        }
        """;

    private static UNet2DConditionModel TinySdxl()
    {
        manual_seed(11);
        var unet = new UNet2DConditionModel(UNet2DConditionConfig.Parse(TinySdxlConfig, "tiny SDXL config"));
        unet.eval();
        return unet;
    }

    [Fact]
    public void Sdxl_like_unet_uses_pooled_embeddings_and_time_ids()
    {
        using var unet = TinySdxl();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new Generator(5);
        var sample = randn([2, 4, 16, 16], generator: generator);
        var context = randn([2, 7, 24], generator: generator);
        var pooled = randn([2, 12], generator: generator);
        var timeIds = tensor(new float[] { 1024, 1024, 0, 0, 1024, 1024, 512, 768, 16, 32, 512, 768 }).reshape(2, 6);

        var output = unet.forward(sample, tensor(new long[] { 999, 10 }), context, new UNetAddedConditions(pooled, timeIds));
        var otherTimeIds = unet.forward(sample, tensor(new long[] { 999, 10 }), context, new UNetAddedConditions(pooled, timeIds + 64));
        var otherPooled = unet.forward(sample, tensor(new long[] { 999, 10 }), context, new UNetAddedConditions(pooled * 2, timeIds));

        Assert.Equal([2, 4, 16, 16], output.shape);
        Assert.True(output.isfinite().all().item<bool>());
        Assert.True((output - otherTimeIds).abs().max().item<float>() > 1e-4);
        Assert.True((output - otherPooled).abs().max().item<float>() > 1e-4);
    }

    [Fact]
    public void Sdxl_like_unet_requires_its_added_conditions()
    {
        using var unet = TinySdxl();
        using var scope = NewDisposeScope();
        var sample = zeros(1, 4, 16, 16);
        var context = zeros(1, 7, 24);

        var missing = Assert.Throws<ArgumentException>(() => unet.forward(sample, 1.0, context));
        Assert.Contains("text_time", missing.Message, StringComparison.Ordinal);
        var wrongWidth = Assert.Throws<ArgumentException>(() => unet.forward(sample, 1.0, context, new UNetAddedConditions(zeros(1, 10), zeros(1, 6))));
        Assert.Contains("60", wrongWidth.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sizes_that_do_not_halve_evenly_still_give_the_input_size()
    {
        using var unet = TinySdxl();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var added = new UNetAddedConditions(zeros(1, 12), zeros(1, 6));

        var output = unet.forward(randn(1, 4, 18, 14), 500.0, randn(1, 3, 24), added);

        Assert.Equal([1, 4, 18, 14], output.shape);
    }

    [Fact]
    public void ControlNet_residuals_are_added_to_every_skip_and_the_mid_block()
    {
        var (unet, sample, timestep, context) = TinyUnetWithInputs();
        using var owned = unet;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        // Skips of the tiny UNet: conv_in, 2 resnets + downsampler at 16x16 (32 ch), 2 resnets at 8x8 (64 ch).
        Assert.Equal(6, unet.SkipConnectionCount);
        long[][] skipShapes = [[2, 32, 16, 16], [2, 32, 16, 16], [2, 32, 16, 16], [2, 32, 8, 8], [2, 64, 8, 8], [2, 64, 8, 8]];
        var zeroSkips = skipShapes.Select(s => zeros(s)).ToList();
        var plain = unet.forward(sample, timestep, context);
        var withZeros = unet.forward(sample, timestep, context, null, zeroSkips, zeros(2, 64, 8, 8));
        var withSkip = unet.forward(sample, timestep, context, null, skipShapes.Select((s, i) => i == 1 ? full(s, 0.5f) : zeros(s)).ToList(), null);
        var withMid = unet.forward(sample, timestep, context, null, null, full(2, 64, 8, 8, 0.5f));

        Assert.True((plain - withZeros).abs().max().item<float>() < 1e-6);
        Assert.True((plain - withSkip).abs().max().item<float>() > 1e-3);
        Assert.True((plain - withMid).abs().max().item<float>() > 1e-3);
        Assert.Throws<ArgumentException>(() => unet.forward(sample, timestep, context, null, zeroSkips.Take(5).ToList(), null));
    }

    [Fact]
    public void T2I_adapter_features_are_added_inside_the_down_blocks()
    {
        var (unet, sample, timestep, context) = TinyUnetWithInputs();
        using var owned = unet;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();

        var plain = unet.forward(sample, timestep, context);
        var withZeros = unet.forward(sample, timestep, context, downIntrablockAdditionalResiduals: [zeros(2, 32, 16, 16), zeros(2, 64, 8, 8)]);
        var withFeatures = unet.forward(sample, timestep, context, downIntrablockAdditionalResiduals: [full(2, 32, 16, 16, 0.5f), zeros(2, 64, 8, 8)]);

        Assert.True((plain - withZeros).abs().max().item<float>() < 1e-6);
        Assert.True((plain - withFeatures).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void A_mid_block_feature_of_batch_one_is_added_to_every_row_as_the_down_block_features_are()
    {
        // full_adapter_xl's last feature goes to the mid block; a pipeline computes features once (batch 1) for a CFG batch of 2.
        var (unet, sample, timestep, context) = TinyUnetWithInputs();
        using var owned = unet;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Assert.Equal(2, sample.shape[0]);

        var down = new[] { zeros(1, 32, 16, 16), zeros(1, 64, 8, 8) };
        var plain = unet.forward(sample, timestep, context, downIntrablockAdditionalResiduals: down);
        var withMid = unet.forward(sample, timestep, context, downIntrablockAdditionalResiduals: [.. down, full(1, 64, 8, 8, 0.5f)]);
        var batched = unet.forward(sample, timestep, context, downIntrablockAdditionalResiduals: [zeros(2, 32, 16, 16), zeros(2, 64, 8, 8), full(2, 64, 8, 8, 0.5f)]);

        Assert.True((plain - withMid).abs().max().item<float>() > 1e-3);
        Assert.True((withMid - batched).abs().max().item<float>() < 1e-6);
        Assert.Throws<ArgumentException>(() => unet.forward(sample, timestep, context, downIntrablockAdditionalResiduals: [.. down, full(1, 64, 4, 4, 0.5f)]));
    }

    [Fact]
    public void Upcast_attention_runs_in_bfloat16()
    {
        const string Sd2Like = """{"block_out_channels": [16, 32], "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"], "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"], "attention_head_dim": [2, 4], "cross_attention_dim": 16, "norm_num_groups": 8, "layers_per_block": 1, "use_linear_projection": true, "upcast_attention": true}""";
        manual_seed(3);
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.Parse(Sd2Like, "tiny SD2 config"));
        unet.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sample = randn(1, 4, 8, 8);
        var context = randn(1, 5, 16);
        var reference = unet.forward(sample, 400.0, context);

        unet.to(ScalarType.BFloat16);
        var half = unet.forward(sample.to(ScalarType.BFloat16), 400.0, context.to(ScalarType.BFloat16));

        Assert.Equal(ScalarType.BFloat16, half.dtype);
        var error = (half.to(ScalarType.Float32) - reference).abs().max().item<float>();
        Assert.True(error < 0.1 * reference.abs().max().item<float>(), $"bfloat16 differs from float32 by {error}");
    }

    [Fact]
    public void Repeated_forward_passes_leave_no_live_tensors_behind()
    {
        using var unet = TinySdxl();
        using var vae = new AutoencoderKL(AutoencoderKLConfig.Parse("""{"block_out_channels": [8, 16], "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"], "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"], "norm_num_groups": 4}""", "tiny VAE config"));
        using var sample = randn(2, 4, 16, 16);
        using var context = randn(2, 7, 24);
        using var pooled = randn(2, 12);
        using var timeIds = zeros(2, 6);
        using var image = rand(1, 3, 16, 16);
        var added = new UNetAddedConditions(pooled, timeIds);

        void Step()
        {
            using var prediction = unet.forward(sample, 250.0, context, added);
            using var latent = vae.Encode(image);
            using var decoded = vae.Decode(latent.Mean);
            // No dispose scope here, so every temporary of the test itself is disposed explicitly.
            using var p2 = prediction.square();
            using var pm = p2.mean();
            using var d2 = decoded.square();
            using var dm = d2.mean();
            using var loss = pm + dm;
            loss.backward();
            unet.zero_grad();
            vae.zero_grad();
        }

        Step();
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 5; i++)
        {
            Step();
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    /// <summary>The tiny SD 1.x UNet of the reference fixture with its weights, in eval mode, and the fixture's inputs.</summary>
    private static (UNet2DConditionModel Unet, Tensor Sample, Tensor Timestep, Tensor Context) TinyUnetWithInputs()
    {
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("unet_sd1_tiny.safetensors"));
        var unet = new UNet2DConditionModel(UNet2DConditionConfig.Load(TestPaths.Fixture("unet_sd1_tiny.config.json")));
        ModuleWeights.Load(unet, fixture, ignore: ModelTestUtil.IsFixtureData);
        unet.eval();
        return (unet, fixture.Read("input.sample"), fixture.Read("input.timestep"), fixture.Read("input.encoder_hidden_states"));
    }
}
