using SdTune.Models.Vae;
using static TorchSharp.torch;

namespace SdTune.Imaging;

/// <summary>
/// Decodes and encodes images larger than memory allows for one VAE pass, tile by tile, as diffusers'
/// <c>enable_tiling</c> does: overlapping tiles are processed one at a time inside their own dispose scope, and
/// the overlaps are cross-faded linearly so no seam shows. Each tile is weighted by a ramp that rises across its
/// overlap with the previous tile and falls across its overlap with the next, sampled at pixel centres, so two
/// overlapping tiles always sum to weight 1 (diffusers' ramp <c>y / extent</c> is the same line, shifted by half a
/// pixel); the sum is divided out where several tiles meet. When one tile covers the input, the result is exactly
/// the plain <see cref="AutoencoderKL.Decode"/> / <see cref="AutoencoderKL.Encode"/>.
/// <para>
/// Tiles differ from a whole-image pass only through the model's global operations (GroupNorm statistics and the
/// mid-block attention see one tile), so results are close to, not equal to, an untiled pass.
/// </para>
/// </summary>
public static class TiledVae
{
    /// <summary>Decodes latents (B, latent, h, w), already divided by the scaling factor, to images (B, out, h*f, w*f).</summary>
    public static Tensor Decode(AutoencoderKL vae, Tensor latents, VaeTiling? tiling = null) =>
        Decode(vae, latents, tiling ?? new VaeTiling(), onTile: null);

    /// <summary>Encodes images (B, in, H, W) in [-1, 1], H and W multiples of the VAE's downscale factor, to the latent distribution.</summary>
    public static DiagonalGaussianDistribution Encode(AutoencoderKL vae, Tensor images, VaeTiling? tiling = null) =>
        Encode(vae, images, tiling ?? new VaeTiling(), onTile: null);

    /// <summary>The VAE's spatial factor: 2 per down block after the first (8 for Stable Diffusion).</summary>
    public static int DownscaleFactor(AutoencoderKL vae)
    {
        ArgumentNullException.ThrowIfNull(vae);
        return 1 << (vae.Config.BlockOutChannels.Count - 1);
    }

    // onTile is a test hook: it receives each tile's latent shape before the tile is processed.
    internal static Tensor Decode(AutoencoderKL vae, Tensor latents, VaeTiling tiling, Action<long[]>? onTile)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(latents);
        ArgumentNullException.ThrowIfNull(tiling);
        if (latents.dim() != 4)
        {
            throw new ArgumentException($"Expected latents of shape (B, C, h, w), got [{string.Join(", ", latents.shape)}].", nameof(latents));
        }

        var factor = DownscaleFactor(vae);
        var ys = tiling.Starts((int)latents.shape[2]);
        var xs = tiling.Starts((int)latents.shape[3]);
        if (ys.Count == 1 && xs.Count == 1)
        {
            onTile?.Invoke(latents.shape);
            return vae.Decode(latents);
        }

        return Blend(latents, ys, xs, tiling.TileSize, inScale: 1, outScale: factor, onTile, tile => vae.Decode(tile));
    }

    // onTile is a test hook: it receives each tile's latent shape before the tile is processed.
    internal static DiagonalGaussianDistribution Encode(AutoencoderKL vae, Tensor images, VaeTiling tiling, Action<long[]>? onTile)
    {
        ArgumentNullException.ThrowIfNull(vae);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(tiling);
        var factor = DownscaleFactor(vae);
        if (images.dim() != 4 || images.shape[2] % factor != 0 || images.shape[3] % factor != 0)
        {
            throw new ArgumentException(
                $"Expected images of shape (B, C, H, W) with H and W multiples of {factor}, got [{string.Join(", ", images.shape)}].",
                nameof(images));
        }

        var ys = tiling.Starts((int)(images.shape[2] / factor));
        var xs = tiling.Starts((int)(images.shape[3] / factor));
        if (ys.Count == 1 && xs.Count == 1)
        {
            onTile?.Invoke([images.shape[0], images.shape[1], images.shape[2] / factor, images.shape[3] / factor]);
            return vae.Encode(images);
        }

        using var scope = NewDisposeScope();
        var moments = Blend(images, ys, xs, tiling.TileSize, inScale: factor, outScale: 1, onTile, tile =>
        {
            using var distribution = vae.Encode(tile);
            return cat([distribution.Mean, distribution.LogVar], 1);
        });
        var result = new DiagonalGaussianDistribution(moments);
        scope.MoveToOuter(result.Mean, result.LogVar, result.Std, result.Var);
        return result;
    }

    /// <summary>
    /// Runs <paramref name="process"/> on each tile of <paramref name="input"/> and cross-fades the outputs.
    /// Tile positions are in grid units (latent pixels); the input has <paramref name="inScale"/> pixels per unit,
    /// the output <paramref name="outScale"/>.
    /// </summary>
    internal static Tensor Blend(
        Tensor input, IReadOnlyList<int> ys, IReadOnlyList<int> xs, int tileSize, int inScale, int outScale,
        Action<long[]>? onTile, Func<Tensor, Tensor> process)
    {
        var gridHeight = (int)(input.shape[2] / inScale);
        var gridWidth = (int)(input.shape[3] / inScale);
        var tileHeight = Math.Min(tileSize, gridHeight);
        var tileWidth = Math.Min(tileSize, gridWidth);
        using var scope = NewDisposeScope();
        Tensor? output = null;
        Tensor? sumY = null;
        Tensor? sumX = null;
        var dtype = input.dtype;
        for (var i = 0; i < ys.Count; i++)
        {
            for (var j = 0; j < xs.Count; j++)
            {
                // Each tile's activations live only inside this scope: peak memory is one tile's worth.
                using var tileScope = NewDisposeScope();
                var tile = input
                    .narrow(2, ys[i] * inScale, tileHeight * inScale)
                    .narrow(3, xs[j] * inScale, tileWidth * inScale);
                onTile?.Invoke([tile.shape[0], tile.shape[1], tileHeight, tileWidth]);
                var processed = process(tile);
                if (output is null)
                {
                    dtype = processed.dtype;
                    output = zeros([processed.shape[0], processed.shape[1], gridHeight * outScale, gridWidth * outScale], ScalarType.Float32, processed.device)
                        .MoveToOuterDisposeScope();
                    sumY = zeros(gridHeight * outScale, ScalarType.Float32, processed.device).MoveToOuterDisposeScope();
                    sumX = zeros(gridWidth * outScale, ScalarType.Float32, processed.device).MoveToOuterDisposeScope();
                }

                var wy = Ramp(ys, i, tileHeight, outScale, processed.device);
                var wx = Ramp(xs, j, tileWidth, outScale, processed.device);
                output
                    .narrow(2, ys[i] * outScale, tileHeight * outScale)
                    .narrow(3, xs[j] * outScale, tileWidth * outScale)
                    .add_(processed.to(ScalarType.Float32) * wy.unsqueeze(1) * wx.unsqueeze(0));
                if (j == 0)
                {
                    sumY!.narrow(0, ys[i] * outScale, tileHeight * outScale).add_(wy);
                }

                if (i == 0)
                {
                    sumX!.narrow(0, xs[j] * outScale, tileWidth * outScale).add_(wx);
                }
            }
        }

        // Where more than two tiles overlap the weights sum to more than 1: divide it out.
        output!.div_(sumY!.unsqueeze(1) * sumX!.unsqueeze(0));
        return (dtype == ScalarType.Float32 ? output : output.to(dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The 1-D weight of tile <paramref name="k"/> in output pixels: rising across its overlap with the previous
    /// tile, falling across its overlap with the next, 1 elsewhere.
    /// </summary>
    private static Tensor Ramp(IReadOnlyList<int> starts, int k, int tileSize, int scale, Device device)
    {
        var length = tileSize * scale;
        var weights = new float[length];
        var lead = k > 0 ? (starts[k - 1] + tileSize - starts[k]) * scale : 0;
        var trail = k + 1 < starts.Count ? (starts[k] + tileSize - starts[k + 1]) * scale : 0;
        for (var p = 0; p < length; p++)
        {
            var w = 1.0;
            if (lead > 0)
            {
                w = Math.Min(w, (p + 0.5) / lead);
            }

            if (trail > 0)
            {
                w = Math.Min(w, (length - p - 0.5) / trail);
            }

            weights[p] = (float)w;
        }

        return tensor(weights, device: device);
    }
}
