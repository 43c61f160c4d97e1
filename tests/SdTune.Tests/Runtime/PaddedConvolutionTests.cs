using SdTune.Runtime;
using static TorchSharp.torch;

namespace SdTune.Tests.Runtime;

/// <summary>
/// Convolutions with channel counts that are not multiples of 16 against a float64 reference (which oneDNN does not
/// handle, so it takes libtorch's plain kernels), with the allocator's recycled memory holding NaN and junk. Without the
/// padding, 149 of these 320 cases were wrong on an AVX-512 CPU.
/// </summary>
public sealed class PaddedConvolutionTests
{
    public static TheoryData<ScalarType, int> Cases => new()
    {
        { ScalarType.Float32, 3 },
        { ScalarType.Float32, 1 },
        { ScalarType.BFloat16, 3 },
        { ScalarType.BFloat16, 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Values_and_gradients_match_a_float64_reference(ScalarType dtype, int kernel)
    {
        manual_seed(21);
        var wrong = new List<string>();
        foreach (var inChannels in new[] { 3, 4, 8, 12, 16, 20, 24, 32, 40, 48 })
        {
            foreach (var outChannels in new[] { 2, 3, 4, 8, 12, 16, 24, 32 })
            {
                for (var pass = 0; pass < 3; pass++)
                {
                    using var scope = NewDisposeScope();
                    full(1L << 16, float.NaN).Dispose();
                    full(1L << 20, 3.25f).Dispose();
                    var x = randn(2, inChannels, 8, 8).to(dtype).requires_grad_();
                    var w = randn(outChannels, inChannels, kernel, kernel).to(dtype).requires_grad_();
                    var y = PaddedConvolution.Conv2d(x, w, null, [1, 1], [kernel / 2, kernel / 2], [1, 1]);
                    Tensor inference;
                    using (no_grad())
                    {
                        inference = PaddedConvolution.Conv2d(x, w, null, [1, 1], [kernel / 2, kernel / 2], [1, 1]);
                    }

                    var upstream = randn_like(y);
                    (y * upstream).sum().backward();

                    var x64 = x.detach().to(ScalarType.Float64).requires_grad_();
                    var w64 = w.detach().to(ScalarType.Float64).requires_grad_();
                    var y64 = nn.functional.conv2d(x64, w64, null, padding: [kernel / 2, kernel / 2]);
                    (y64 * upstream.to(ScalarType.Float64)).sum().backward();
                    foreach (var (name, actual, expected) in new[] { ("output", y, y64), ("inference output", inference, y64), ("input gradient", x.grad!, x64.grad!), ("weight gradient", w.grad!, w64.grad!) })
                    {
                        var scale = expected.abs().max().item<double>();
                        var tolerance = dtype == ScalarType.Float32 ? 1e-3 * Math.Max(1, scale) : 0.03 * scale;
                        if (!((actual.to(ScalarType.Float64) - expected).abs().max().item<double>() <= tolerance))
                        {
                            wrong.Add($"{inChannels} -> {outChannels}: {name}");
                        }
                    }
                }
            }
        }

        Assert.True(wrong.Count == 0, $"{wrong.Count} wrong: {string.Join("; ", wrong.Distinct().Take(10))}");
    }

    [Fact]
    public void A_guarded_layer_computes_through_the_padding_and_keeps_its_adapters_hooks_working()
    {
        manual_seed(5);
        using var conv = nn.Conv2d(64, 4, 3, stride: 1, padding: 1);
        PaddedConvolution.Guard(conv);
        var bad = 0;
        for (var pass = 0; pass < 100; pass++)
        {
            using var scope = NewDisposeScope();
            full(8L << 20, float.NaN).Dispose();
            full(1L << 16, float.NaN).Dispose();
            var x = randn(8, 64, 16, 16).requires_grad_();
            var y = conv.call(x);
            (y * randn_like(y)).sum().backward();
            bad += x.grad!.isfinite().all().item<bool>() ? 0 : 1;
            conv.zero_grad();
        }

        Assert.True(bad == 0, $"bad {bad}");

        using var hookScope = NewDisposeScope();
        var input = randn(1, 64, 4, 4);
        var before = conv.call(input);
        var remover = conv.register_forward_hook((_, _, output) => output + 1);
        Assert.True(((conv.call(input) - before) - 1).abs().max().item<float>() < 1e-5);
        remover.remove();
    }

    [Fact]
    public void Only_the_cases_measured_wrong_take_the_padded_route()
    {
        using var x = randn(1, 8, 4, 4);
        using var training = randn(1, 8, 4, 4).requires_grad_();
        using var half = randn(1, 8, 4, 4).to(ScalarType.BFloat16);
        Assert.False(PaddedConvolution.IsNeeded(x, outChannels: 4, inChannels: 320));
        Assert.True(PaddedConvolution.IsNeeded(training, outChannels: 4, inChannels: 320));
        Assert.True(PaddedConvolution.IsNeeded(x, outChannels: 32, inChannels: 24));
        Assert.False(PaddedConvolution.IsNeeded(x, outChannels: 320, inChannels: 4));
        Assert.True(PaddedConvolution.IsNeeded(half, outChannels: 320, inChannels: 4));
        Assert.False(PaddedConvolution.IsNeeded(training, outChannels: 320, inChannels: 640));
        Assert.False(PaddedConvolution.IsNeeded(training, outChannels: 4, inChannels: 320, groups: 2));
    }
}
