using SdTune.Tests.Training.Methods;
using SdTune.Training;
using SdTune.Training.Data;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Data;

/// <summary>The (image, condition image, caption) datasets of ControlNet and T2I-Adapter training.</summary>
public sealed class ControlNetTrainingDataTests
{
    [Fact]
    public void The_folder_convention_pairs_each_image_with_its_conditioning_file_cropped_and_flipped_alike()
    {
        using var dir = TestPaths.NewTempDir();
        var train = ControlTrainingKit.FolderDataset(dir.Path);
        var config = DatasetConfig.FromFolders(train, null, new DatasetOptions { BatchSize = 2, Resolution = new PixelSize(32, 32) },
            new SubsetOptions { CaptionExtension = ".caption", FlipAug = true, RandomCrop = true }, [], withConditioning: true) with { RequireConditioning = true };
        AssertAligned(TrainingDataset.Build(config, new ImageFileReader(), seed: 3), expectFlipsAndCrops: true);
    }

    [Fact]
    public void A_metadata_jsonl_pairs_images_with_either_conditioning_column()
    {
        foreach (var key in new[] { "conditioning_file_name", "conditioning_image" })
        {
            using var dir = TestPaths.NewTempDir();
            var folder = ControlTrainingKit.JsonlDataset(dir.Path, conditioningKey: key);
            var config = DatasetConfig.FromFolders(folder, null, new DatasetOptions { BatchSize = 2, Resolution = new PixelSize(32, 32) },
                new SubsetOptions { FlipAug = true, RandomCrop = true }, [], withConditioning: true) with { RequireConditioning = true };
            var dataset = TrainingDataset.Build(config, new ImageFileReader(), seed: 9);
            Assert.Equal(4, dataset.Images.Count);
            Assert.All(dataset.Images, i => Assert.Equal("c" + Path.GetFileNameWithoutExtension(i.Path)[1..], Path.GetFileNameWithoutExtension(i.ConditioningPath)));
            Assert.Contains(dataset.Images, i => i.Caption == "a toy, picture 2");
            AssertAligned(dataset, expectFlipsAndCrops: true);
        }
    }

    [Fact]
    public void A_missing_condition_image_is_an_error_naming_the_image_and_the_expected_file()
    {
        using var dir = TestPaths.NewTempDir();
        var train = ControlTrainingKit.FolderDataset(dir.Path);
        var missing = Path.Combine(train, "2_toy", "conditioning", "img01.png");
        File.Delete(missing);
        var config = DatasetConfig.FromFolders(train, null, new DatasetOptions { BatchSize = 2, Resolution = new PixelSize(32, 32) },
            new SubsetOptions { CaptionExtension = ".caption" }, [], withConditioning: true) with { RequireConditioning = true };
        var e = Assert.Throws<DatasetConfigException>(() => TrainingDataset.Build(config, new ImageFileReader(), 1));
        Assert.Contains(Path.Combine(train, "2_toy", "img01.png"), e.Message, StringComparison.Ordinal);
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);

        var jsonl = ControlTrainingKit.JsonlDataset(dir.File("j"));
        File.Delete(Path.Combine(jsonl, "conditions", "c3.png"));
        var fromJsonl = DatasetConfig.FromFolders(jsonl, null, new DatasetOptions { BatchSize = 2, Resolution = new PixelSize(32, 32) }, new SubsetOptions(), [], withConditioning: true);
        var j = Assert.Throws<DatasetException>(() => TrainingDataset.Build(fromJsonl, new ImageFileReader(), 1));
        Assert.Contains("line 4", j.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(jsonl, "conditions", "c3.png"), j.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(jsonl, "images", "p3.png"), j.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_subset_folder_without_a_conditioning_folder_is_an_error_naming_it()
    {
        using var dir = TestPaths.NewTempDir();
        var train = ControlTrainingKit.FolderDataset(dir.Path);
        Directory.Delete(Path.Combine(train, "2_toy", "conditioning"), recursive: true);
        var e = Assert.Throws<DatasetConfigException>(() => DatasetConfig.FromFolders(train, null, new DatasetOptions { BatchSize = 2, Resolution = new PixelSize(32, 32) }, new SubsetOptions(), [], withConditioning: true));
        Assert.Contains(Path.Combine(train, "2_toy", "conditioning"), e.Message, StringComparison.Ordinal);

        // Without condition images asked for, the same folders train as before.
        Assert.Single(DatasetConfig.FromFolders(train, null, new DatasetOptions { BatchSize = 2, Resolution = new PixelSize(32, 32) }, new SubsetOptions(), []).Datasets[0].Subsets);
    }

    /// <summary>Every sample's condition image is its image's colour inverse, pixel for pixel, after crop and flip.</summary>
    private static void AssertAligned(TrainingDataset dataset, bool expectFlipsAndCrops)
    {
        var reader = new ImageFileReader();
        var samples = Enumerable.Range(1, 4).SelectMany(e => dataset.GetEpochSamples(e)).ToList();
        foreach (var sample in samples)
        {
            using var scope = NewDisposeScope();
            var image = (sample.LoadImage(reader) + 1) / 2;
            var condition = sample.LoadConditioningImage(reader);
            Assert.Equal([3L, 32, 32], condition.shape);
            var error = (image + condition - 1).abs().max().item<float>();
            Assert.True(error < 1.5 / 255, $"{sample.ImagePath} (flip {sample.Flip}, crop {sample.Crop}): off by {error}");
        }

        if (expectFlipsAndCrops)
        {
            Assert.Contains(samples, s => s.Flip);
            Assert.Contains(samples, s => !s.Flip);
            Assert.True(samples.Select(s => s.Crop).Distinct().Count() > 1, "the random crops should differ");
        }
    }
}
