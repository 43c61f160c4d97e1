using SdTune.Conditioning;
using SdTune.Imaging;
using SdTune.IO;
using SdTune.Models;
using SdTune.Models.Control;
using SdTune.Pipelines;
using SdTune.Pipelines.Control;
using SdTune.Schedulers;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Pipelines.Control;

/// <summary>Generation with ControlNets and T2I-Adapters on the tiny SD 1.x model.</summary>
public sealed class ControlGenerationTests : IDisposable
{
    private readonly StableDiffusionModel sd1 = PipelineModels.Sd1();
    private readonly TempDir dir = TestPaths.NewTempDir();
    private readonly SKBitmap image = ControlTestModels.Image();

    public void Dispose()
    {
        sd1.Dispose();
        dir.Dispose();
        image.Dispose();
    }

    private static GenerationRequest Request(string sampler = "Euler a", params ControlRequest[] controls) => new()
    {
        Prompt = "a red circle",
        NegativePrompt = "blurry",
        Steps = 4,
        Seed = 7,
        Width = 32,
        Height = 32,
        Sampler = sampler,
        Controls = controls,
    };

    private ControlRequest ControlNet(string path, double scale = 1) => new() { Type = ControlType.ControlNet, ModelPath = path, Image = image, Scale = scale };

    private byte[] Generate(GenerationRequest request)
    {
        using var pipeline = new StableDiffusionPipeline(sd1);
        using var result = pipeline.Generate(request);
        return result.Images[0].Image.GetPixelSpan().ToArray();
    }

    private static int MaxDifference(byte[] a, byte[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    [Fact]
    public void A_fresh_controlnet_leaves_the_image_bit_identical_and_a_trained_one_changes_it()
    {
        var plain = Generate(Request());
        var zero = ControlTestModels.ControlNet(dir, sd1.Unet, "zero");
        var random = ControlTestModels.ControlNet(dir, sd1.Unet, "random", randomSeed: 3);
        Assert.Equal(plain, Generate(Request(controls: ControlNet(zero))));
        Assert.True(MaxDifference(plain, Generate(Request(controls: ControlNet(random)))) > 10);
    }

    [Fact]
    public void An_empty_guidance_window_is_no_control_and_a_partial_one_is_in_between()
    {
        var random = ControlTestModels.ControlNet(dir, sd1.Unet, "random", randomSeed: 3);
        var plain = Generate(Request());
        var full = Generate(Request(controls: ControlNet(random)));
        Assert.Equal(plain, Generate(Request(controls: ControlNet(random) with { GuidanceStart = 0.5, GuidanceEnd = 0.5 })));
        var late = Generate(Request(controls: ControlNet(random) with { GuidanceStart = 0.5 }));
        Assert.NotEqual(plain, late);
        Assert.NotEqual(full, late);
    }

    [Fact]
    public void Two_controlnets_sum_their_residuals()
    {
        var random = ControlTestModels.ControlNet(dir, sd1.Unet, "random", randomSeed: 3);
        var once = Generate(Request(controls: ControlNet(random)));
        var halves = Generate(Request(controls: [ControlNet(random, 0.5), ControlNet(random, 0.5)]));
        Assert.True(MaxDifference(once, halves) <= 1);
        Assert.True(MaxDifference(once, Generate(Request(controls: ControlNet(random, 0.5)))) > 3);
    }

    [Fact]
    public void A_t2i_adapter_changes_the_image_and_at_scale_zero_leaves_it_unchanged()
    {
        var adapter = ControlTestModels.Adapter(dir);
        var plain = Generate(Request());
        var control = new ControlRequest { Type = ControlType.T2IAdapter, ModelPath = adapter, Image = image };
        Assert.True(MaxDifference(plain, Generate(Request(controls: control))) > 10);
        Assert.Equal(plain, Generate(Request(controls: control with { Scale = 0 })));
    }

    [Fact]
    public void Img2img_with_a_control_runs_and_a_fresh_controlnet_changes_nothing()
    {
        var zero = ControlTestModels.ControlNet(dir, sd1.Unet, "zero");
        var random = ControlTestModels.ControlNet(dir, sd1.Unet, "random", randomSeed: 3);
        using var init = TestImagesFor.Gradient();
        var request = Request("DDIM") with { InitImage = init, Strength = 0.6, Steps = 6 };
        var plain = Generate(request);
        Assert.Equal(plain, Generate(request with { Controls = [ControlNet(zero)] }));
        Assert.True(MaxDifference(plain, Generate(request with { Controls = [ControlNet(random)] })) > 5);
    }

    public static TheoryData<string> Samplers => [.. SamplerRegistry.Names];

    [Theory]
    [MemberData(nameof(Samplers))]
    public void Every_sampler_runs_with_a_control(string sampler)
    {
        var random = ControlTestModels.ControlNet(dir, sd1.Unet, "random", randomSeed: 3);
        var plain = Generate(Request(sampler));
        Assert.True(MaxDifference(plain, Generate(Request(sampler, ControlNet(random)))) > 5);
    }

    [Fact]
    public void The_infotext_records_each_control_as_the_extension_does()
    {
        var random = ControlTestModels.ControlNet(dir, sd1.Unet, "random", randomSeed: 3);
        var adapter = ControlTestModels.Adapter(dir, "my-adapter");
        using var pipeline = new StableDiffusionPipeline(sd1);
        using var result = pipeline.Generate(Request(controls:
        [
            ControlNet(random, 0.75) with { GuidanceEnd = 0.5, ResizeMode = ControlResizeMode.JustResize, GuessMode = true },
            new ControlRequest { Type = ControlType.T2IAdapter, ModelPath = adapter, Image = image, Preprocessor = "invert" },
        ]));
        var text = result.Images[0].Infotext.ToText();
        Assert.Contains("ControlNet 0: \"Module: none, Model: random, Weight: 0.75, Resize Mode: Just Resize, Guidance Start: 0, Guidance End: 0.5, Control Mode: ControlNet is more important\"", text, StringComparison.Ordinal);
        var units = ControlNetUnitInfotext.From(GenerationInfotext.Parse(text));
        Assert.Equal(("invert", "my-adapter", "Crop and Resize"), (units[1].Module, units[1].Model, units[1].ResizeMode));
    }

    [Fact]
    public void A_controlnet_for_another_unet_is_refused_naming_its_file()
    {
        var wrong = ControlTestModels.WrongControlNet(dir, sd1.Unet);
        using var pipeline = new StableDiffusionPipeline(sd1);
        var e = Assert.Throws<CheckpointFormatException>(() => pipeline.Generate(Request(controls: ControlNet(wrong))));
        Assert.Contains(wrong, e.Message, StringComparison.Ordinal);
        Assert.Contains("block_out_channels is [64, 128] but the UNet's is [32, 64]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Guess_mode_controls_only_the_conditional_rows_with_scaled_residuals()
    {
        var random = ControlTestModels.ControlNet(dir, sd1.Unet, "random", randomSeed: 3);
        var request = ControlNet(random, 0.8) with { GuessMode = true };
        using var controls = ActiveControls.Load([request], sd1, 32, 32);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var generator = new TorchSharp.torch.Generator(9);
        var input = randn([2, 4, 16, 16], generator: generator);
        var context = randn([2, 5, 32], generator: generator);
        var residuals = controls.Residuals(input, 500, new UNetConditioning(context, null), unconditionalRows: 1, fraction: 0);

        using var controlNet = SdTune.Checkpoints.Control.ControlNetFiles.Load(random);
        using var t = tensor(500.0, ScalarType.Float64);
        var fitted = ImageTensors.FromImageUnitRange(image).unsqueeze(0);
        using var expected = controlNet.forward(input.narrow(0, 1, 1), t, context.narrow(0, 1, 1), fitted, 0.8, guessMode: true);
        for (var i = 0; i < expected.DownBlockResiduals.Count; i++)
        {
            Assert.Equal(0f, residuals.Down![i][0].abs().max().item<float>());
            Assert.True(residuals.Down[i][1].allclose(expected.DownBlockResiduals[i][0], rtol: 1e-5, atol: 1e-6));
        }

        Assert.Equal(0f, residuals.Mid![0].abs().max().item<float>());
        Assert.True(residuals.Mid[1].allclose(expected.MidBlockResidual[0], rtol: 1e-5, atol: 1e-6));
        // Outside its window the ControlNet adds nothing.
        Assert.Null(controls.Residuals(input, 500, new UNetConditioning(context, null), 1, fraction: 1.0).Down);
    }

    [Fact]
    public void Controls_take_the_dtype_of_the_unet()
    {
        var random = ControlTestModels.ControlNet(dir, sd1.Unet, "random", randomSeed: 3);
        var adapter = ControlTestModels.Adapter(dir);
        using var sd = PipelineModels.Sd1();
        sd.Unet.to(ScalarType.Float64);
        using var controls = ActiveControls.Load([ControlNet(random), new ControlRequest { Type = ControlType.T2IAdapter, ModelPath = adapter, Image = image }], sd, 32, 32);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var residuals = controls.Residuals(randn([2, 4, 16, 16], ScalarType.Float64), 500, new UNetConditioning(randn([2, 5, 32], ScalarType.Float64), null), 1, 0);
        Assert.All(residuals.Down!, r => Assert.Equal(ScalarType.Float64, r.dtype));
        Assert.All(residuals.Intrablock!, r => Assert.Equal(ScalarType.Float64, r.dtype));
    }

    [Theory]
    [InlineData(20, 0.5, false, 10)]
    [InlineData(20, 0.49, false, 10)]
    [InlineData(20, 0.0, false, 0)]
    [InlineData(10, 0.5, true, 3)] // img2img 10 steps x 0.5 strength: 5 steps run, counted as 6: k/6 >= 0.5 from k = 3
    public void The_guidance_window_counts_steps_as_a1111(int steps, double start, bool img2img, int firstActive)
    {
        var plan = new EulerSampler(new NoiseSchedule(NoiseScheduleConfig.FromJson("{}", "test"))).CreatePlan(steps, img2img ? 0.5 : 1.0);
        var active = Enumerable.Range(plan.StartIndex, plan.EndIndex - plan.StartIndex)
            .Where(i => ControlGuidance.IsActive(ControlGuidance.Fraction(i, plan, img2img), start, 1.0))
            .Select(i => i - plan.StartIndex).ToList();
        Assert.Equal(firstActive, active[0]);
        Assert.Equal(plan.EndIndex - plan.StartIndex - 1, active[^1]);
    }

    /// <summary>Init images for img2img.</summary>
    private static class TestImagesFor
    {
        public static SKBitmap Gradient() => Imaging.TestImages.Create(32, 32, (x, y) => new SKColor((byte)(8 * x), (byte)(8 * y), 128));
    }
}
