using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.Models.Vae;
using SdTune.Tests.Training.Data;
using SdTune.Training.Caching;
using SdTune.Training.Data;
using SkiaSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Caching;

public sealed class LatentCacheTests : IDisposable
{
    private static readonly PixelSize Resized = new(40, 32);
    private static readonly PixelRect Crop = new(4, 0, 32, 32);

    private readonly TempDir temp = TestPaths.NewTempDir();
    private readonly AutoencoderKL vae = LoadVae();
    private readonly ImageFileReader reader = new();
    private readonly string fingerprint;
    private readonly string image;
    private readonly List<string> warnings = [];
    private int encodes;

    public LatentCacheTests()
    {
        fingerprint = ModelFingerprint.Compute(vae, vae.Config.ToJson());
        image = DataTestFiles.Png(temp.File("images/a.png"), 40, 32, SKColors.SkyBlue, SKColors.OrangeRed);
    }

    [Fact]
    public void Memory_cache_misses_once_then_hits_with_the_vae_latent_distribution()
    {
        using var cache = NewCache(folder: null);
        using var scope = NewDisposeScope();

        var first = cache.Get(image, Resized, Crop, flip: false);
        var second = cache.Get(image, Resized, Crop, flip: false);

        Assert.Equal((1, 1, 1), (cache.Misses, cache.Hits, encodes));
        Assert.Null(cache.Folder);
        using var expected = EncodeDirectly(image, Resized, Crop, flip: false);
        Assert.Equal([1, 4, 16, 16], first.Mean.shape);
        Assert.True(first.Mean.equal(expected.Mean).all().item<bool>());
        Assert.True(first.Std.equal(expected.Std).all().item<bool>());
        Assert.True(second.Mean.equal(expected.Mean).all().item<bool>());

        // The caller owns what it gets: disposing it leaves the cache intact.
        first.Dispose();
        using var third = cache.Get(image, Resized, Crop, flip: false);
        Assert.True(third.Mean.equal(expected.Mean).all().item<bool>());
    }

    [Fact]
    public void A_different_crop_flip_resize_or_storage_type_misses()
    {
        var folder = temp.File("cache");
        using var cache = NewCache(folder);
        using var scope = NewDisposeScope();
        var original = cache.Get(image, Resized, Crop, flip: false);

        var flipped = cache.Get(image, Resized, Crop, flip: true);
        cache.Get(image, Resized, Crop with { Left = 0 }, flip: false);
        cache.Get(image, new PixelSize(48, 38), Crop, flip: false);
        Assert.Equal(4, cache.Misses);
        Assert.Equal(0, cache.Hits);
        Assert.True((flipped.Mean - original.Mean).abs().max().item<float>() > 1e-3);
        using var expectedFlipped = EncodeDirectly(image, Resized, Crop, flip: true);
        Assert.True(flipped.Mean.equal(expectedFlipped.Mean).all().item<bool>());

        cache.Get(image, Resized, Crop, flip: true);
        Assert.Equal(1, cache.Hits);
        Assert.Equal(4, Directory.GetFiles(folder, "*.safetensors").Length);

        using var halfCache = NewCache(folder, ScalarType.BFloat16);
        var half = halfCache.Get(image, Resized, Crop, flip: false);
        Assert.Equal((1, 0), (halfCache.Misses, halfCache.Hits));
        Assert.Equal(ScalarType.BFloat16, half.Mean.dtype);
    }

    [Fact]
    public void A_changed_image_file_misses_and_encodes_the_new_content()
    {
        using var cache = NewCache(temp.File("cache"));
        using var scope = NewDisposeScope();
        var before = cache.Get(image, Resized, Crop, flip: false);
        var keyBefore = cache.KeyFor(image, Resized, Crop, flip: false);

        DataTestFiles.Png(image, 40, 32, SKColors.DarkGreen, SKColors.OrangeRed);
        var after = cache.Get(image, Resized, Crop, flip: false);

        Assert.NotEqual(keyBefore.Hash, cache.KeyFor(image, Resized, Crop, flip: false).Hash);
        Assert.Equal(2, cache.Misses);
        Assert.True((after.Mean - before.Mean).abs().max().item<float>() > 1e-3);
        using var expected = EncodeDirectly(image, Resized, Crop, flip: false);
        Assert.True(after.Mean.equal(expected.Mean).all().item<bool>());
    }

    [Fact]
    public void A_changed_vae_weight_changes_the_fingerprint_and_misses()
    {
        var folder = temp.File("cache");
        using (var cache = NewCache(folder))
        {
            cache.Get(image, Resized, Crop, flip: false).Dispose();
        }

        using (no_grad())
        {
            // One element of one weight deep in the encoder.
            var weight = vae.named_parameters().First(p => p.name.StartsWith("encoder.mid_block", StringComparison.Ordinal)).parameter;
            weight.view(-1)[0] += 1e-3f;
        }

        var changed = ModelFingerprint.Compute(vae, vae.Config.ToJson());
        Assert.NotEqual(fingerprint, changed);
        Assert.NotEqual(fingerprint, ModelFingerprint.Compute(vae, vae.Config.ToJson() + " "));
        using var afterChange = NewCache(folder, fingerprintOverride: changed);
        afterChange.Get(image, Resized, Crop, flip: false).Dispose();
        Assert.Equal((1, 0), (afterChange.Misses, afterChange.Hits));
        Assert.Equal(2, Directory.GetFiles(folder, "*.safetensors").Length);
    }

    [Fact]
    public void Disk_cache_survives_a_new_instance_and_returns_identical_latents()
    {
        var folder = temp.File("cache");
        Tensor mean, std;
        using (var cache = NewCache(folder))
        {
            using var first = cache.Get(image, Resized, Crop, flip: true);
            (mean, std) = (first.Mean.clone(), first.Std.clone());
        }

        encodes = 0;
        using var reopened = NewCache(folder);
        Assert.True(reopened.Contains(reopened.KeyFor(image, Resized, Crop, flip: true)));
        using var again = reopened.Get(image, Resized, Crop, flip: true);

        Assert.Equal((0, 1, 0), (reopened.Misses, reopened.Hits, encodes));
        Assert.True(again.Mean.equal(mean).all().item<bool>());
        Assert.True(again.Std.equal(std).all().item<bool>());
        mean.Dispose();
        std.Dispose();
    }

    [Theory]
    [InlineData("flipped data byte")]
    [InlineData("truncated")]
    [InlineData("garbage")]
    [InlineData("other key")]
    public void A_damaged_cache_file_is_detected_reported_and_recomputed(string damage)
    {
        var folder = temp.File("cache");
        string path;
        using (var cache = NewCache(folder))
        {
            cache.Get(image, Resized, Crop, flip: false).Dispose();
            path = cache.EntryPath(cache.KeyFor(image, Resized, Crop, flip: false))!;
        }

        var bytes = File.ReadAllBytes(path);
        switch (damage)
        {
            case "flipped data byte":
                bytes[^10] ^= 0x40;
                File.WriteAllBytes(path, bytes);
                break;
            case "truncated":
                File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
                break;
            case "garbage":
                File.WriteAllBytes(path, "not a safetensors file"u8.ToArray());
                break;
            default:
                // A valid file that belongs to another entry (copied over this one).
                using (var other = NewCache(temp.File("other")))
                {
                    other.Get(image, Resized, Crop, flip: true).Dispose();
                    File.Copy(other.EntryPath(other.KeyFor(image, Resized, Crop, flip: true))!, path, overwrite: true);
                }

                break;
        }

        encodes = 0;
        using var reopened = NewCache(folder);
        using var recomputed = reopened.Get(image, Resized, Crop, flip: false);

        Assert.Equal((1, 0, 1, 1), (reopened.Misses, reopened.Hits, reopened.CorruptEntries, encodes));
        var warning = Assert.Single(warnings);
        Assert.Contains(path, warning, StringComparison.Ordinal);
        Assert.Contains("recomputed", warning, StringComparison.Ordinal);
        using var expected = EncodeDirectly(image, Resized, Crop, flip: false);
        Assert.True(recomputed.Mean.equal(expected.Mean).all().item<bool>());

        // The entry was rewritten: the next instance hits.
        using var third = NewCache(folder);
        third.Get(image, Resized, Crop, flip: false).Dispose();
        Assert.Equal((0, 1), (third.Misses, third.Hits));
    }

    [Fact]
    public void Writes_are_atomic_and_leave_no_temporary_files()
    {
        var folder = temp.File("cache");
        using var cache = NewCache(folder);
        cache.Get(image, Resized, Crop, flip: false).Dispose();
        cache.Get(image, Resized, Crop, flip: true).Dispose();
        Assert.All(Directory.GetFiles(folder), f => Assert.EndsWith(".safetensors", f, StringComparison.Ordinal));

        // An encoder failure on a miss leaves no file behind.
        using var failing = new LatentCache(
            new LatentCacheOptions { Folder = folder, VaeFingerprint = fingerprint, Warn = warnings.Add },
            _ => throw new InvalidOperationException("encoder failed"),
            reader);
        Assert.Throws<InvalidOperationException>(() => failing.Get(image, Resized, Crop with { Top = 0, Left = 8 }, flip: false));
        Assert.Equal(2, Directory.GetFiles(folder).Length);

        // An existing entry being rewritten is replaced whole: every file in the folder is always a complete entry.
        foreach (var file in Directory.GetFiles(folder))
        {
            using var st = SafetensorsFile.Open(file);
            Assert.Equal(["mean", "std"], st.Tensors.Select(t => t.Name).Order());
        }
    }

    [Fact]
    public void Prune_deletes_entries_not_kept_and_leaves_other_files_alone()
    {
        var folder = temp.File("cache");
        using var cache = NewCache(folder);
        cache.Get(image, Resized, Crop, flip: false).Dispose();
        cache.Get(image, Resized, Crop, flip: true).Dispose();
        var unrelated = Path.Combine(folder, "notes.safetensors");
        File.WriteAllText(unrelated, "not ours");

        var removed = cache.Prune([cache.KeyFor(image, Resized, Crop, flip: true)]);

        Assert.Equal(1, removed);
        Assert.True(File.Exists(unrelated));
        Assert.False(cache.Contains(cache.KeyFor(image, Resized, Crop, flip: false)));
        Assert.True(cache.Contains(cache.KeyFor(image, Resized, Crop, flip: true)));

        using var memory = NewCache(folder: null);
        memory.Get(image, Resized, Crop, flip: false).Dispose();
        Assert.Equal(1, memory.Prune([]));
        Assert.False(memory.Contains(memory.KeyFor(image, Resized, Crop, flip: false)));
    }

    [Fact]
    public void Colour_augmentation_and_random_crops_make_a_subset_uncacheable()
    {
        Assert.True(LatentCache.IsCacheable(new SubsetOptions { FlipAug = true }));
        Assert.False(LatentCache.IsCacheable(new SubsetOptions { ColorAug = true }));
        Assert.False(LatentCache.IsCacheable(new SubsetOptions { RandomCrop = true }));
        Assert.False(LatentCache.IsCacheable(new SubsetOptions { FaceCropAugRange = (2.0, 4.0) }));
    }

    [Fact]
    public void Key_parts_each_change_the_hash()
    {
        var key = new LatentCacheKey(new string('a', 64), Resized, Crop, false, "vae", ScalarType.Float32);
        LatentCacheKey[] variants =
        [
            key with { ImageSha256 = new string('b', 64) },
            key with { ResizedSize = new PixelSize(41, 32) },
            key with { Crop = Crop with { Top = 1 } },
            key with { Flip = true },
            key with { VaeFingerprint = "vae2" },
            key with { DType = ScalarType.Float16 },
        ];
        Assert.Equal(variants.Length + 1, variants.Select(v => v.Hash).Append(key.Hash).Distinct().Count());
        Assert.Equal(key.Hash, (key with { }).Hash);
        Assert.Matches("^[0-9a-f]{64}$", key.Hash);
    }

    public void Dispose()
    {
        vae.Dispose();
        temp.Dispose();
    }

    private static AutoencoderKL LoadVae()
    {
        var model = new AutoencoderKL(AutoencoderKLConfig.Load(TestPaths.Fixture("vae_tiny.config.json")));
        using var file = SafetensorsFile.Open(TestPaths.Fixture("vae_tiny.safetensors"));
        ModuleWeights.Load(model, file, ignore: n => n.StartsWith("input", StringComparison.Ordinal) || n.StartsWith("output", StringComparison.Ordinal));
        model.eval();
        return model;
    }

    private LatentCache NewCache(string? folder, ScalarType dtype = ScalarType.Float32, string? fingerprintOverride = null) =>
        new(
            new LatentCacheOptions { Folder = folder, VaeFingerprint = fingerprintOverride ?? fingerprint, DType = dtype, Warn = warnings.Add },
            x =>
            {
                encodes++;
                return vae.Encode(x);
            },
            reader);

    private DiagonalGaussianDistribution EncodeDirectly(string path, PixelSize resized, PixelRect crop, bool flip)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var pixels = reader.Load(path, resized, crop, flip).unsqueeze(0);
        var distribution = vae.Encode(pixels);
        distribution.Mean.MoveToOuterDisposeScope();
        distribution.Std.MoveToOuterDisposeScope();
        distribution.LogVar.MoveToOuterDisposeScope();
        distribution.Var.MoveToOuterDisposeScope();
        return distribution;
    }
}
