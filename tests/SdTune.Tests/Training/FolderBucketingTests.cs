using SdTune.Training;
using SdTune.Training.Data;
using SkiaSharp;

namespace SdTune.Tests.Training;

/// <summary>Aspect-ratio bucketing of a train_data_dir dataset through the training keys (sd-scripts' --enable_bucket and friends).</summary>
public sealed class FolderBucketingTests
{
    [Fact]
    public void Enable_bucket_puts_each_folder_image_in_the_bucket_of_its_aspect_ratio_and_without_it_every_image_trains_at_the_resolution()
    {
        using var dir = TestPaths.NewTempDir();
        var folder = Path.Combine(dir.Path, "train", "1_toy");
        Write(folder, "square", 64, 64);
        Write(folder, "wide", 96, 32);
        Write(folder, "tall", 32, 96);
        var config = new TrainingConfig
        {
            Method = "lora", PretrainedModel = "tiny", OutputDir = Path.Combine(dir.Path, "out"), TrainDataDir = Path.GetDirectoryName(folder),
            Resolution = "128", MaxTrainSteps = 1, EnableBucket = true, MinBucketReso = 64, MaxBucketReso = 256, BucketResoSteps = 64,
        };
        using var model = TrainingTestKit.TinyModel();

        // Area 128² with sides 64..256 in steps of 64: 128x128, 192x64 and 64x192 (aspect 3) among the buckets.
        Assert.Equal(["128x128", "192x64", "64x192"], Buckets(config, model));
        Assert.Equal(["128x128", "128x128", "128x128"], Buckets(config with { EnableBucket = false }, model));
    }

    [Theory]
    [InlineData("max_bucket_reso=128", "min_bucket_reso=256", "max_bucket_reso")]
    [InlineData("bucket_reso_steps=48", "resolution=96", "bucket_reso_steps")]
    [InlineData("min_bucket_reso=256", "resolution=128", "min_bucket_reso")]
    [InlineData("max_bucket_reso=512", "resolution=768", "max_bucket_reso")]
    public void Bucket_settings_that_cannot_hold_the_resolution_are_refused_naming_the_key(string first, string second, string key)
    {
        using var dir = TestPaths.NewTempDir();
        var folder = Path.Combine(dir.Path, "train", "1_toy");
        Write(folder, "square", 64, 64);
        var config = new TrainingConfig { Method = "lora", PretrainedModel = "tiny", OutputDir = Path.Combine(dir.Path, "out"), TrainDataDir = Path.GetDirectoryName(folder), MaxTrainSteps = 1 }
            .WithOverrides(["enable_bucket=true", first, second]);
        using var model = TrainingTestKit.TinyModel();
        var e = Assert.Throws<TrainingConfigException>(() => ResolvedTrainingConfig.Resolve(config, model));
        Assert.Equal(key, e.Key);
    }

    [Fact]
    public void The_bucket_keys_say_they_are_unused_without_enable_bucket_or_with_a_dataset_toml()
    {
        var keys = TrainingConfigKeys.All.ToDictionary(k => k.Name);
        var folder = new TrainingConfig { TrainDataDir = "data" };
        Assert.Null(keys["enable_bucket"].NotUsed(folder));
        Assert.Equal("needs enable_bucket", keys["min_bucket_reso"].NotUsed(folder));
        Assert.Null(keys["min_bucket_reso"].NotUsed(folder with { EnableBucket = true }));
        Assert.Contains("[[datasets]]", keys["enable_bucket"].NotUsed(new TrainingConfig { DatasetConfig = "d.toml" }), StringComparison.Ordinal);
    }

    private static List<string> Buckets(TrainingConfig config, SdTune.Models.StableDiffusionModel model)
    {
        var resolved = ResolvedTrainingConfig.Resolve(config, model);
        var dataset = TrainingDataset.Build(resolved.Dataset!, new ImageFileReader(), 1);
        var order = new[] { "square", "wide", "tall" };
        return [.. dataset.GetEpoch(1).SelectMany(b => b.Samples)
            .OrderBy(s => Array.IndexOf(order, Path.GetFileNameWithoutExtension(s.ImagePath))).Select(s => s.Bucket.ToString())];
    }

    private static void Write(string folder, string name, int width, int height)
    {
        Directory.CreateDirectory(folder);
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(SKColors.OrangeRed);
        File.WriteAllBytes(Path.Combine(folder, name + ".png"), SdTune.Imaging.PngWriter.Encode(bitmap));
        File.WriteAllText(Path.Combine(folder, name + ".caption"), "a toy " + name);
    }
}
