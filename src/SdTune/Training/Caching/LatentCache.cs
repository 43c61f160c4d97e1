using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using SdTune.Models.Vae;
using SdTune.Training.Data;
using static TorchSharp.torch;

namespace SdTune.Training.Caching;

/// <summary>
/// Caches the VAE latent distribution of training images, in memory or as one safetensors file per entry in a folder.
/// Entries are found by <see cref="LatentCacheKey"/>, so a changed image file, resize, crop, flip, VAE or storage type
/// simply misses and is encoded afresh; <see cref="Prune"/> deletes what is no longer needed. Disk entries are written
/// atomically and carry a checksum: a damaged file is reported through <see cref="LatentCacheOptions.Warn"/> and recomputed.
/// </summary>
/// <remarks>Not thread-safe: use one instance per data-loading thread (disk entries may be shared by many instances and
/// processes).</remarks>
public sealed partial class LatentCache : IDisposable
{
    private const string FormatTag = "sdtune.latent-cache/1";
    private const string MeanName = "mean";
    private const string StdName = "std";

    private readonly LatentCacheOptions options;
    private readonly Func<Tensor, DiagonalGaussianDistribution> encode;
    private readonly IImageReader reader;
    private readonly Dictionary<string, (Tensor Mean, Tensor Std)> memory = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Path, long Length, long Modified), string> contentHashes = [];

    /// <summary>Creates a cache.</summary>
    /// <param name="options">Folder, VAE identity and storage type.</param>
    /// <param name="encode">Encodes a batch of images (B, 3, H, W) in [-1, 1] to the VAE's latent distribution, for
    /// example <c>vae.Encode</c>; called with one image per miss, under <c>no_grad</c>.</param>
    /// <param name="reader">Loads the resized, cropped and flipped pixels of a miss.</param>
    public LatentCache(LatentCacheOptions options, Func<Tensor, DiagonalGaussianDistribution> encode, IImageReader reader)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(encode);
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.VaeFingerprint, nameof(options));
        this.options = options;
        this.encode = encode;
        this.reader = reader;
    }

    /// <summary>The disk cache folder, or null for a memory cache.</summary>
    public string? Folder => options.Folder;

    /// <summary>Lookups answered from the cache.</summary>
    public int Hits { get; private set; }

    /// <summary>Lookups that had to encode the image (including recomputed corrupt entries).</summary>
    public int Misses { get; private set; }

    /// <summary>Disk entries found damaged and recomputed.</summary>
    public int CorruptEntries { get; private set; }

    /// <summary>
    /// Whether a subset's samples may use cached latents: not with <c>color_aug</c> (pixels change after loading) nor with
    /// <c>random_crop</c> or <c>face_crop_aug_range</c> (a new crop every step would never hit), as in sd-scripts.
    /// </summary>
    public static bool IsCacheable(SubsetOptions subset)
    {
        ArgumentNullException.ThrowIfNull(subset);
        return !subset.ColorAug && !subset.RandomCrop && subset.FaceCropAugRange is null;
    }

    /// <summary>The key of a sample's latents (hashes the image file, remembered while its size and time stamp stay).</summary>
    /// <exception cref="FileNotFoundException">The image file does not exist.</exception>
    public LatentCacheKey KeyFor(TrainingSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        return KeyFor(sample.ImagePath, sample.ResizedSize, sample.Crop, sample.Flip);
    }

    /// <summary>The key of an image's latents for one resize, crop and flip.</summary>
    /// <exception cref="FileNotFoundException">The image file does not exist.</exception>
    public LatentCacheKey KeyFor(string imagePath, PixelSize resizedSize, PixelRect crop, bool flip)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagePath);
        return new LatentCacheKey(ContentHash(imagePath), resizedSize, crop, flip, options.VaeFingerprint, options.DType);
    }

    /// <summary>The path of an entry's file in the disk cache, or null for a memory cache.</summary>
    public string? EntryPath(LatentCacheKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return options.Folder is null ? null : Path.Combine(options.Folder, key.Hash + ".safetensors");
    }

    /// <summary>Whether an entry is present (for the disk cache: its file exists; it is validated only when read).</summary>
    public bool Contains(LatentCacheKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return EntryPath(key) is { } path ? File.Exists(path) : memory.ContainsKey(key.Hash);
    }

    /// <summary>A sample's latent distribution, from the cache or encoded (and stored) on a miss.</summary>
    public CachedLatents Get(TrainingSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        return Get(sample.ImagePath, sample.ResizedSize, sample.Crop, sample.Flip);
    }

    /// <summary>An image's latent distribution for one resize, crop and flip, from the cache or encoded (and stored) on a miss.</summary>
    /// <exception cref="FileNotFoundException">The image file does not exist.</exception>
    /// <exception cref="DatasetException">The image cannot be decoded.</exception>
    public CachedLatents Get(string imagePath, PixelSize resizedSize, PixelRect crop, bool flip)
    {
        var key = KeyFor(imagePath, resizedSize, crop, flip);
        if (TryLoad(key, imagePath) is { } cached)
        {
            Hits++;
            return cached;
        }

        Misses++;
        var (mean, std) = Encode(imagePath, resizedSize, crop, flip);
        Store(key, imagePath, mean, std);
        return new CachedLatents(mean, std);
    }

    /// <summary>
    /// Deletes every entry not in <paramref name="keep"/>: disk files named like cache entries in <see cref="Folder"/>
    /// (other files are left alone), or memory entries.
    /// </summary>
    /// <returns>How many entries were deleted.</returns>
    public int Prune(IEnumerable<LatentCacheKey> keep)
    {
        ArgumentNullException.ThrowIfNull(keep);
        var live = keep.Select(k => k.Hash).ToHashSet(StringComparer.Ordinal);
        var removed = 0;
        if (options.Folder is null)
        {
            foreach (var hash in memory.Keys.Where(h => !live.Contains(h)).ToList())
            {
                memory[hash].Mean.Dispose();
                memory[hash].Std.Dispose();
                memory.Remove(hash);
                removed++;
            }

            return removed;
        }

        if (!Directory.Exists(options.Folder))
        {
            return 0;
        }

        foreach (var file in Directory.EnumerateFiles(options.Folder, "*.safetensors"))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            if (EntryName().IsMatch(name) && !live.Contains(name))
            {
                File.Delete(file);
                removed++;
            }
        }

        return removed;
    }

    /// <summary>Frees the memory cache's tensors.</summary>
    public void Dispose()
    {
        foreach (var (mean, std) in memory.Values)
        {
            mean.Dispose();
            std.Dispose();
        }

        memory.Clear();
    }

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex EntryName();

    private static string Checksum(Tensor mean, Tensor std)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        ModelFingerprint.AppendTensorBytes(hash, mean);
        ModelFingerprint.AppendTensorBytes(hash, std);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private string ContentHash(string imagePath)
    {
        var info = new FileInfo(imagePath);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"{imagePath}: image file not found.", imagePath);
        }

        var stamp = (info.FullName, info.Length, info.LastWriteTimeUtc.Ticks);
        if (!contentHashes.TryGetValue(stamp, out var hash))
        {
            using var stream = info.OpenRead();
            hash = Convert.ToHexStringLower(SHA256.HashData(stream));
            contentHashes[stamp] = hash;
        }

        return hash;
    }

    private (Tensor Mean, Tensor Std) Encode(string imagePath, PixelSize resizedSize, PixelRect crop, bool flip)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = reader.Load(imagePath, resizedSize, crop, flip).unsqueeze(0);
        using var distribution = encode(pixels);
        var mean = distribution.Mean.to(options.DType, CPU).contiguous().clone();
        var std = distribution.Std.to(options.DType, CPU).contiguous().clone();
        if (mean.dim() != 4 || mean.shape[0] != 1 || !mean.shape.SequenceEqual(std.shape))
        {
            throw new InvalidOperationException(
                $"{imagePath}: the encoder returned a latent mean of shape [{string.Join(", ", mean.shape)}] and std [{string.Join(", ", std.shape)}]; expected equal shapes (1, C, h, w).");
        }

        return (mean.MoveToOuterDisposeScope(), std.MoveToOuterDisposeScope());
    }

    private void Store(LatentCacheKey key, string imagePath, Tensor mean, Tensor std)
    {
        if (EntryPath(key) is not { } path)
        {
            memory[key.Hash] = (mean.clone().DetachFromDisposeScope(), std.clone().DetachFromDisposeScope());
            return;
        }

        var metadata = new Dictionary<string, string>
        {
            ["format"] = FormatTag,
            ["key"] = key.Hash,
            ["sha256"] = Checksum(mean, std),
            ["image"] = imagePath,
            ["image_sha256"] = key.ImageSha256,
            ["resized_size"] = string.Create(CultureInfo.InvariantCulture, $"{key.ResizedSize.Width}x{key.ResizedSize.Height}"),
            ["crop"] = key.Crop.ToString(),
            ["flip"] = key.Flip ? "true" : "false",
            ["vae"] = key.VaeFingerprint,
            ["dtype"] = key.DType.ToString(),
        };
        SafetensorsWriter.Save(path, [new(MeanName, mean), new(StdName, std)], metadata);
    }

    private CachedLatents? TryLoad(LatentCacheKey key, string imagePath)
    {
        if (EntryPath(key) is not { } path)
        {
            return memory.TryGetValue(key.Hash, out var entry) ? new CachedLatents(entry.Mean.clone(), entry.Std.clone()) : null;
        }

        if (!File.Exists(path))
        {
            return null;
        }

        string problem;
        try
        {
            if (ReadEntry(path, key) is { } loaded)
            {
                return loaded;
            }

            problem = "its content does not match its checksum or key";
        }
        catch (Exception e) when (e is CheckpointFormatException or IOException or KeyNotFoundException or ArgumentException or InvalidOperationException or System.Runtime.InteropServices.ExternalException)
        {
            problem = e.Message;
        }

        CorruptEntries++;
        var message = $"Latent cache file {path} (for {imagePath}) is damaged and will be recomputed: {problem}";
        if (options.Warn is { } warn)
        {
            warn(message);
        }
        else
        {
            Trace.TraceWarning(message);
        }

        return null;
    }

    private static CachedLatents? ReadEntry(string path, LatentCacheKey key)
    {
        using var file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue("format", out var format) || format != FormatTag
            || !file.Metadata.TryGetValue("key", out var storedKey) || storedKey != key.Hash
            || !file.Metadata.TryGetValue("sha256", out var checksum))
        {
            return null;
        }

        var mean = file.Read(MeanName);
        var std = file.Read(StdName);
        var valid = mean.dtype == key.DType && std.dtype == key.DType && mean.dim() == 4 && mean.shape.SequenceEqual(std.shape)
            && Checksum(mean, std) == checksum;
        if (!valid)
        {
            mean.Dispose();
            std.Dispose();
            return null;
        }

        return new CachedLatents(mean, std);
    }
}
