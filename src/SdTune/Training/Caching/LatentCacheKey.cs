using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using SdTune.Training.Data;
using static TorchSharp.torch;

namespace SdTune.Training.Caching;

/// <summary>
/// Everything that decides a cached latent: the image file's content, how it was resized, cropped and flipped, which
/// VAE encoded it and the storage type. Equal keys mean interchangeable latents; change any part and the key (and so
/// the cache file) changes, so stale entries are never read.
/// </summary>
/// <param name="ImageSha256">SHA-256 of the image file's bytes (hex).</param>
/// <param name="ResizedSize">The size the image is resized to before cropping.</param>
/// <param name="Crop">The rectangle of the resized image that is encoded.</param>
/// <param name="Flip">Whether the crop is mirrored left-right.</param>
/// <param name="VaeFingerprint">The VAE's identity (see <see cref="ModelFingerprint"/>).</param>
/// <param name="DType">The type latents are stored in.</param>
public sealed record LatentCacheKey(string ImageSha256, PixelSize ResizedSize, PixelRect Crop, bool Flip, string VaeFingerprint, ScalarType DType)
{
    /// <summary>The key as 64 hex digits: SHA-256 of a canonical text of every part; also the cache file's name.</summary>
    public string Hash => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalText)));

    /// <summary>The canonical text the hash is taken of (versioned, one part per line).</summary>
    public string CanonicalText => string.Create(
        CultureInfo.InvariantCulture,
        $"sdtune-latents/1\nimage={ImageSha256.ToLowerInvariant()}\nresize={ResizedSize.Width}x{ResizedSize.Height}\ncrop={Crop.Left},{Crop.Top},{Crop.Width},{Crop.Height}\nflip={(Flip ? 1 : 0)}\nvae={VaeFingerprint.ToLowerInvariant()}\ndtype={DType}\n");
}
