using SdTune.Training.Data;

namespace SdTune.Tests.Training.Data;

public class TrainingDatasetTests
{
    private static readonly PixelSize Square = new(512, 512);

    // Sizes are encoded in the file names ("w x h_name.png") so no pixels are decoded.
    private static readonly FakeSizeReader Reader = new(path =>
    {
        var size = Path.GetFileNameWithoutExtension(path).Split('_')[0].Split('x');
        return new PixelSize(int.Parse(size[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(size[1], System.Globalization.CultureInfo.InvariantCulture));
    });

    private static void Touch(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [0]);
    }

    private static DatasetConfig Config(TempDir dir, int trainImages, int trainRepeats, int regImages, int regRepeats, bool bucket = false, int batch = 1, string extra = "")
    {
        for (var i = 0; i < trainImages; i++)
        {
            Touch(dir.File($"train/{(i % 2 == 0 ? "512x512" : "800x600")}_t{i}.png"));
        }

        for (var i = 0; i < regImages; i++)
        {
            Touch(dir.File($"reg/512x512_r{i}.png"));
        }

        var toml = $"""
            [general]
            prior_loss_weight = 0.25
            [[datasets]]
            resolution = 512
            batch_size = {batch}
            enable_bucket = {(bucket ? "true" : "false")}
              [[datasets.subsets]]
              image_dir = "train"
              num_repeats = {trainRepeats}
              class_tokens = "sks dog"
              {extra}
            """;
        if (regImages > 0)
        {
            toml += $"\n  [[datasets.subsets]]\n  image_dir = \"reg\"\n  num_repeats = {regRepeats}\n  class_tokens = \"dog\"\n  is_reg = true\n";
        }

        return DatasetConfig.Parse(toml, "test.toml", dir.Path);
    }

    [Fact]
    public void Short_regularisation_sets_get_extra_repeats_round_robin()
    {
        using var dir = TestPaths.NewTempDir();

        // 3 train images x 4 = 12; 5 reg images x 1 = 5, then +1 round robin: 5 + 5 = 10, then r0, r1 -> 12.
        var dataset = TrainingDataset.Build(Config(dir, 3, 4, 5, 1), Reader, seed: 1);
        var reg = dataset.Images.Where(i => i.IsReg).ToList();
        Assert.Equal([3, 3, 2, 2, 2], reg.Select(i => i.Repeats));
        Assert.Equal(24, dataset.SamplesPerEpoch);
        Assert.Equal(24, dataset.BatchesPerEpoch);
        Assert.DoesNotContain(dataset.Warnings, w => w.Contains("not used", StringComparison.Ordinal));
    }

    [Fact]
    public void Extra_regularisation_images_are_unused_with_a_warning()
    {
        using var dir = TestPaths.NewTempDir();

        // 2 train x 2 = 4; reg images 2 repeats each: r0 (2), r1 (4) reach 4; r2..r4 unused.
        var dataset = TrainingDataset.Build(Config(dir, 2, 2, 5, 2), Reader, seed: 1);
        var reg = dataset.Images.Where(i => i.IsReg).ToList();
        Assert.Equal(["512x512_r0.png", "512x512_r1.png"], reg.Select(i => Path.GetFileName(i.Path)));
        Assert.All(reg, r => Assert.Equal(2, r.Repeats));
        Assert.Contains(dataset.Warnings, w => w.Contains("some regularisation images are not used", StringComparison.Ordinal));
    }

    [Fact]
    public void Samples_carry_loss_weight_caption_and_registration()
    {
        using var dir = TestPaths.NewTempDir();
        var dataset = TrainingDataset.Build(Config(dir, 2, 1, 2, 1), Reader, seed: 3);
        var samples = dataset.GetEpochSamples(1);
        Assert.Equal(4, samples.Count);
        Assert.All(samples.Where(s => s.IsReg), s => Assert.Equal((0.25, "dog"), (s.LossWeight, s.Caption)));
        Assert.All(samples.Where(s => !s.IsReg), s => Assert.Equal((1.0, "sks dog"), (s.LossWeight, s.Caption)));
        Assert.All(samples, s => Assert.False(s.Flip));
        Assert.Contains(dataset.Warnings, w => w.Contains("use class_tokens \"sks dog\"", StringComparison.Ordinal));
    }

    [Fact]
    public void Batches_come_from_one_bucket_and_epochs_are_a_pure_function_of_seed_and_epoch()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir, 6, 3, 0, 0, bucket: true, batch: 2, extra: "flip_aug = true\nrandom_crop = true\nshuffle_caption = true");
        var dataset = TrainingDataset.Build(config, Reader, seed: 42);

        // 3 images 512x512 and 3 images 800x600 (-> 576x448), 3 repeats each: 9 per bucket, batches of 2 -> 5 + 5.
        Assert.Equal(10, dataset.BatchesPerEpoch);
        var epoch1 = dataset.GetEpoch(1);
        Assert.Equal(10, epoch1.Count);
        Assert.All(epoch1, b => Assert.All(b.Samples, s => Assert.Equal(b.Bucket, s.Bucket)));
        Assert.Equal(2, epoch1.Count(b => b.Samples.Count == 1));
        Assert.Equal(18, epoch1.Sum(b => b.Samples.Count));

        // Same seed and epoch: same batches, crops, flips, captions; even from a dataset built again.
        var again = TrainingDataset.Build(config, Reader, seed: 42).GetEpoch(1);
        Assert.Equal(Describe(epoch1), Describe(again));

        // Another epoch or seed reorders.
        Assert.NotEqual(Describe(epoch1), Describe(dataset.GetEpoch(2)));
        Assert.NotEqual(Describe(epoch1), Describe(TrainingDataset.Build(config, Reader, seed: 43).GetEpoch(1)));

        // Flips and random crops really vary across an epoch; crops stay inside the resized image.
        var samples = epoch1.SelectMany(b => b.Samples).ToList();
        Assert.Contains(samples, s => s.Flip);
        Assert.Contains(samples, s => !s.Flip);
        Assert.All(samples, s => Assert.True(s.Crop.Left + s.Crop.Width <= s.ResizedSize.Width && s.Crop.Top + s.Crop.Height <= s.ResizedSize.Height));
        Assert.True(samples.Where(s => s.Bucket == new PixelSize(576, 448)).Select(s => s.Crop.Left).Distinct().Count() > 1);

        // Resume: global step 13 is epoch 2, batch 3.
        Assert.Equal((2, 3), dataset.Locate(13));
        Assert.Equal((1, 0), dataset.Locate(0));
    }

    private static string Describe(IReadOnlyList<TrainingBatch> batches) =>
        string.Join("|", batches.Select(b => string.Join(";", b.Samples.Select(s => $"{Path.GetFileName(s.ImagePath)},{s.Crop},{s.Flip},{s.Caption}"))));

    [Fact]
    public void Bucket_info_and_summary_report_buckets_with_repeats()
    {
        using var dir = TestPaths.NewTempDir();
        var dataset = TrainingDataset.Build(Config(dir, 3, 2, 0, 0, bucket: true), Reader, seed: 0);
        var info = Assert.IsType<BucketInfo>(dataset.BucketInfos[0]);
        Assert.Equal([new BucketCount(0, new PixelSize(512, 512), 4), new BucketCount(1, new PixelSize(576, 448), 2)], info.Buckets);

        // Errors: 0, 0 and |576/448 - 800/600|, averaged over the three images.
        Assert.Equal(Math.Abs((576.0 / 448) - (800.0 / 600)) / 3, info.MeanImageAspectRatioError, 12);
        Assert.StartsWith("{\"buckets\": {\"0\": {\"resolution\": [512, 512], \"count\": 4}, \"1\": {\"resolution\": [576, 448], \"count\": 2}}, \"mean_img_ar_error\": 0.0158", info.ToJson(), StringComparison.Ordinal);

        var text = dataset.Summary.ToString();
        Assert.Contains("3 images x 2 repeats", text, StringComparison.Ordinal);
        Assert.Contains("bucket 1: 576x448, 2 images with repeats", text, StringComparison.Ordinal);
        Assert.Equal(6, dataset.Summary.TrainImagesWithRepeats);
    }

    [Fact]
    public void Sdxl_conditioning_is_filled_per_sample()
    {
        using var dir = TestPaths.NewTempDir();
        var dataset = TrainingDataset.Build(Config(dir, 2, 1, 0, 0, bucket: true), Reader, seed: 0);
        var sample = dataset.GetEpochSamples(1).Single(s => s.ImagePath.Contains("800x600", StringComparison.Ordinal));
        Assert.Equal(new SdxlConditioning(new PixelSize(800, 600), 8, 0, new PixelSize(576, 448)), sample.Conditioning);
        Assert.Equal(new PixelRect(10, 0, 576, 448), sample.Crop);
    }

    [Fact]
    public void Missing_captions_without_class_tokens_name_the_image()
    {
        using var dir = TestPaths.NewTempDir();
        Touch(dir.File("train/512x512_a.png"));
        var config = DatasetConfig.Parse("[[datasets]]\nresolution = 512\n[[datasets.subsets]]\nimage_dir = \"train\"", "t.toml", dir.Path);
        var e = Assert.Throws<DatasetException>(() => TrainingDataset.Build(config, Reader, 0));
        Assert.Equal(dir.File("train/512x512_a.png"), e.Path);
        Assert.Contains("no caption file (512x512_a.caption) and no class_tokens", e.Message, StringComparison.Ordinal);

        var missingDir = DatasetConfig.Parse("[[datasets]]\nresolution = 512\n[[datasets.subsets]]\nimage_dir = \"nope\"", "t.toml", dir.Path);
        Assert.Contains("key 'image_dir': folder not found", Assert.Throws<DatasetConfigException>(() => TrainingDataset.Build(missingDir, Reader, 0)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fine_tune_subsets_read_captions_and_tags_from_the_metadata_file()
    {
        using var dir = TestPaths.NewTempDir();
        Touch(dir.File("imgs/512x512_a.png"));
        Touch(dir.File("imgs/800x600_b.jpg"));
        DataTestFiles.Text(dir.File("meta.json"), """{"512x512_a": {"caption": "a cat", "tags": "cute, fluffy"}, "800x600_b": {"tags": "dog"}}""");
        var config = DatasetConfig.Parse("[[datasets]]\nresolution = 512\n[[datasets.subsets]]\nmetadata_file = \"meta.json\"\nimage_dir = \"imgs\"", "t.toml", dir.Path);
        var dataset = TrainingDataset.Build(config, Reader, 0);
        Assert.Equal(["a cat,cute, fluffy", "dog"], dataset.Images.Select(i => i.Caption));
    }

    [Fact]
    public void Duplicate_folders_and_subsets_without_repeats_are_skipped_with_warnings()
    {
        using var dir = TestPaths.NewTempDir();
        Touch(dir.File("train/512x512_a.png"));
        var toml = "[[datasets]]\nresolution = 512\n"
            + "[[datasets.subsets]]\nimage_dir = \"train\"\nclass_tokens = \"x\"\nnum_repeats = 2\n"
            + "[[datasets.subsets]]\nimage_dir = \"train\"\nclass_tokens = \"y\"\n"
            + "[[datasets.subsets]]\nimage_dir = \"other\"\nnum_repeats = 0\n";
        var dataset = TrainingDataset.Build(DatasetConfig.Parse(toml, "t.toml", dir.Path), Reader, 0);
        Assert.Equal(2, dataset.SamplesPerEpoch);
        Assert.Contains(dataset.Warnings, w => w.Contains("#1.2", StringComparison.Ordinal) && w.Contains("already used", StringComparison.Ordinal));
        Assert.Contains(dataset.Warnings, w => w.Contains("#1.3", StringComparison.Ordinal) && w.Contains("num_repeats is 0", StringComparison.Ordinal));
    }
}
