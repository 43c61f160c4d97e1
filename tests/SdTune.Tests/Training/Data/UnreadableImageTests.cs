using SdTune.Training.Data;

namespace SdTune.Tests.Training.Data;

public class UnreadableImageTests
{
    private static DatasetConfig Config(TempDir dir) => DatasetConfig.Parse(
        """
        [[datasets]]
        resolution = 32
          [[datasets.subsets]]
          image_dir = "train"
          class_tokens = "sks dog"
        """, "test.toml", dir.Path);

    [Fact]
    public void Unreadable_images_are_skipped_with_a_warning_naming_them()
    {
        using var dir = TestPaths.NewTempDir();
        DataTestFiles.Png(dir.File("train/good.png"), 32, 32);
        DataTestFiles.Text(dir.File("train/broken.png"), "this is not a png");
        var dataset = TrainingDataset.Build(Config(dir), new ImageFileReader(), seed: 1);
        Assert.Single(dataset.Images);
        Assert.Contains(dataset.Warnings, w => w.Contains("broken.png", StringComparison.Ordinal) && w.Contains("skipping unreadable image", StringComparison.Ordinal));
    }

    [Fact]
    public void A_dataset_with_no_readable_image_fails()
    {
        using var dir = TestPaths.NewTempDir();
        DataTestFiles.Text(dir.File("train/broken.png"), "this is not a png");
        var error = Assert.Throws<DatasetConfigException>(() => TrainingDataset.Build(Config(dir), new ImageFileReader(), seed: 1));
        Assert.Contains("no training images", error.Message, StringComparison.Ordinal);
    }
}
