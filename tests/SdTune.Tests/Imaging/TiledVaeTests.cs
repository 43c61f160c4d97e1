using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.Imaging;
using SdTune.Models.Vae;
using SdTune.Tests.Models;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SdTune.Tests.Imaging;

public sealed class TiledVaeTests(ITestOutputHelper output) : IDisposable
{
    private readonly AutoencoderKL vae = LoadTinyVae();

    public void Dispose() => vae.Dispose();

    private static AutoencoderKL LoadTinyVae()
    {
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("vae_tiny.safetensors"));
        var model = new AutoencoderKL(AutoencoderKLConfig.Load(TestPaths.Fixture("vae_tiny.config.json")));
        model.eval();
        ModuleWeights.Load(model, fixture, ignore: ModelTestUtil.IsFixtureData);
        return model;
    }

    /// <summary>A smooth image (1, 3, size, size) in [-1, 1]: gradients and low-frequency waves.</summary>
    private static Tensor SmoothImage(int size)
    {
        var coords = linspace(0, 1, size);
        var y = coords.unsqueeze(1);
        var x = coords.unsqueeze(0);
        var r = (2 * x) - 1;
        var g = sin(x * 6.0 + (y * 3.0)) * 0.8;
        var b = cos(y * 5.0) * 0.5 * (1 - x);
        return stack([r.expand(size, size), g, b]).unsqueeze(0);
    }

    /// <summary>
    /// Values periodic in both axes with period <paramref name="period"/> (1, channels, size, size). Any window of
    /// whole periods has the statistics of the whole, so GroupNorm and attention see the same thing in a tile as in
    /// the full input, and what remains of the tiling error is the tile edges, which the cross-fade must hide.
    /// (On non-stationary content the tiny random VAE's per-tile GroupNorm statistics differ much more from the
    /// global ones; that is a property of tiled VAE passes, not of the blending.)
    /// </summary>
    private static Tensor Periodic(int channels, int size, int period, double amplitude)
    {
        var c = arange(channels).view(channels, 1, 1).to(ScalarType.Float32);
        var y = arange(size).view(1, size, 1).to(ScalarType.Float32);
        var x = arange(size).view(1, 1, size).to(ScalarType.Float32);
        var w = 2 * Math.PI / period;
        return (sin((x * w) + c) * cos((y * w) + (c * 0.5)) * amplitude).unsqueeze(0);
    }

    /// <summary>Mean |d/dx| of the image at each column boundary x | x+1, over rows and channels.</summary>
    private static double[] ColumnJumps(Tensor image)
    {
        using var scope = NewDisposeScope();
        var diff = (image[.., .., .., 1..] - image[.., .., .., ..^1]).abs().mean([0, 1, 2]);
        return diff.to(ScalarType.Float64).data<double>().ToArray();
    }

    [Fact]
    public void One_tile_covering_the_input_is_exactly_the_plain_pass()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var image = SmoothImage(48);
        using var plainLatent = vae.Encode(image);
        using var tiledLatent = TiledVae.Encode(vae, image, new VaeTiling(24, 4));

        var plain = vae.Decode(plainLatent.Mean);
        var tiled = TiledVae.Decode(vae, plainLatent.Mean, new VaeTiling(24, 4));

        Assert.True(plainLatent.Mean.equal(tiledLatent.Mean).all().item<bool>());
        Assert.True(plainLatent.LogVar.equal(tiledLatent.LogVar).all().item<bool>());
        Assert.True(plain.equal(tiled).all().item<bool>());
    }

    [Theory]
    [InlineData(16, 4)]
    [InlineData(64, 8)]
    [InlineData(10, 5)]
    [InlineData(7, 0)]
    public void Tiles_span_the_axis_with_at_least_the_overlap(int tile, int overlap)
    {
        var tiling = new VaeTiling(tile, overlap);
        for (var size = 1; size <= 300; size++)
        {
            var starts = tiling.Starts(size);
            Assert.Equal(0, starts[0]);
            if (size <= tile)
            {
                Assert.Single(starts);
                continue;
            }

            Assert.Equal(size, starts[^1] + tile);
            for (var k = 1; k < starts.Count; k++)
            {
                Assert.InRange(starts[k] - starts[k - 1], 1, tile - overlap);
            }

            // Fewest tiles: one fewer could not keep the overlap.
            Assert.True((starts.Count - 2) * (tile - overlap) + tile < size, $"size {size}: {starts.Count} tiles is more than needed");
        }
    }

    [Fact]
    public void Blending_reassembles_a_pointwise_operation_exactly()
    {
        using var scope = NewDisposeScope();
        var input = randn([2, 3, 20, 28], generator: new Generator(5));
        var tiling = new VaeTiling(8, 3);

        var doubled = TiledVae.Blend(input, tiling.Starts(20), tiling.Starts(28), 8, inScale: 1, outScale: 2, onTile: null,
            t => nn.functional.interpolate(t, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest) * 3);
        var pooled = TiledVae.Blend(input, tiling.Starts(10), tiling.Starts(14), 8, inScale: 2, outScale: 1, onTile: null,
            t => nn.functional.avg_pool2d(t, 2) - 1);

        var expectedDoubled = nn.functional.interpolate(input, scale_factor: [2.0, 2.0], mode: InterpolationMode.Nearest) * 3;
        Assert.True((doubled - expectedDoubled).abs().max().item<float>() < 1e-5f);
        Assert.True((pooled - (nn.functional.avg_pool2d(input, 2) - 1)).abs().max().item<float>() < 1e-5f);
    }

    [Fact]
    public void Tiled_decode_is_close_to_the_plain_decode_without_seams()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var z = Periodic(4, 32, 8, 2.0); // 64x64 image; 3x3 tiles of 16 with overlap 8

        var plain = vae.Decode(z);
        var tiled = TiledVae.Decode(vae, z, new VaeTiling(16, 4));
        var stitched = TiledVae.Decode(vae, z, new VaeTiling(16, 0)); // two abutting tiles per axis, no blending

        var range = (plain.max() - plain.min()).item<float>();
        var maxError = (tiled - plain).abs().max().item<float>();
        var meanError = (tiled - plain).abs().mean().item<float>();
        output.WriteLine($"image range {range:F3}; tiled vs plain: max {maxError:F4}, mean {meanError:F4}");

        // Measured: range 3.88, max 0.198, mean 0.035.
        Assert.Equal(plain.shape, tiled.shape);
        Assert.True(maxError < 0.3, $"max error {maxError} (image range {range})");
        Assert.True(meanError < 0.06, $"mean error {meanError} (image range {range})");

        // Seams: the stitched decode jumps where its tiles meet (pixel columns 31 | 32); the blended decode must
        // be as smooth there, and everywhere, as the plain decode.
        var plainJumps = ColumnJumps(plain);
        var tiledJumps = ColumnJumps(tiled);
        var stitchedJumps = ColumnJumps(stitched);
        var excess = tiledJumps.Zip(plainJumps, (t, p) => t - p).Max();
        var stitchedExcess = stitchedJumps[31] - plainJumps[31];
        output.WriteLine($"column 31|32: plain {plainJumps[31]:F4}, stitched {stitchedJumps[31]:F4}, tiled {tiledJumps[31]:F4}; largest tiled excess over plain {excess:F4}");

        Assert.True(stitchedExcess > 0.05, $"the seam measure cannot see a hard seam ({stitchedExcess})");
        Assert.True(excess < stitchedExcess / 4, $"blended decode has a column jump {excess} above the plain decode's (hard seam: {stitchedExcess})");
    }

    [Fact]
    public void Tiled_encode_is_close_to_the_plain_encode()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var image = Periodic(3, 64, 16, 0.9);

        using var plain = vae.Encode(image);
        using var tiled = TiledVae.Encode(vae, image, new VaeTiling(16, 4));

        var range = (plain.Mean.max() - plain.Mean.min()).item<float>();
        var maxError = (tiled.Mean - plain.Mean).abs().max().item<float>();
        var meanError = (tiled.Mean - plain.Mean).abs().mean().item<float>();
        output.WriteLine($"latent mean range {range:F3}; tiled vs plain: max {maxError:F4}, mean {meanError:F4}");
        // Measured: range 3.83, max 0.478, mean 0.052 (the encoder's receptive field reaches further past the tile edges).
        Assert.Equal(plain.Mean.shape, tiled.Mean.shape);
        Assert.True(maxError < 0.75, $"max error {maxError} (latent range {range})");
        Assert.True(meanError < 0.08, $"mean error {meanError} (latent range {range})");
        Assert.Throws<ArgumentException>(() => TiledVae.Encode(vae, zeros(1, 3, 33, 32)));
    }

    [Fact]
    public void Work_is_done_one_bounded_tile_at_a_time_without_leaking_tensors()
    {
        using var noGrad = no_grad();
        using var z = randn([1, 4, 24, 36], generator: new Generator(3));
        var tiles = new List<long[]>();
        var tiling = new VaeTiling(12, 3);

        // Warm-up so lazily created state does not count as a leak.
        TiledVae.Decode(vae, z, tiling, onTile: null).Dispose();
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (var decoded = TiledVae.Decode(vae, z, tiling, tiles.Add))
        {
            Assert.Equal([1L, 3, 48, 72], decoded.shape);
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        Assert.Equal(3 * 4, tiles.Count); // 24 -> 3 tiles, 36 -> 4 tiles of 12 with overlap >= 3
        Assert.All(tiles, t => Assert.True(t[2] <= 12 && t[3] <= 12, $"tile {t[2]}x{t[3]}"));
    }
}
