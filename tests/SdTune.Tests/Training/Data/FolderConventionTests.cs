using SdTune.Training.Data;

namespace SdTune.Tests.Training.Data;

public class FolderConventionTests
{
    [Fact]
    public void Subfolders_named_repeats_and_concept_become_subsets()
    {
        using var dir = TestPaths.NewTempDir();
        Directory.CreateDirectory(dir.File("train/10_sks dog"));
        Directory.CreateDirectory(dir.File("train/3_a_b c"));
        Directory.CreateDirectory(dir.File("train/misc"));
        Directory.CreateDirectory(dir.File("train/0_zero"));
        Directory.CreateDirectory(dir.File("reg/1_dog"));

        var warnings = new List<string>();
        var config = DatasetConfig.FromFolders(
            dir.File("train"),
            dir.File("reg"),
            new DatasetOptions { Resolution = new PixelSize(512, 512), BatchSize = 2 },
            new SubsetOptions { CaptionExtension = ".txt", ShuffleCaption = true },
            warnings);

        var subsets = config.Datasets.Single().Subsets;
        Assert.Equal(3, subsets.Count);
        Assert.Equal((dir.File("train/10_sks dog"), 10, "sks dog", false), (subsets[0].ImageDirectory, subsets[0].NumRepeats, subsets[0].ClassTokens, subsets[0].IsReg));
        Assert.Equal((dir.File("train/3_a_b c"), 3, "a_b c", false), (subsets[1].ImageDirectory, subsets[1].NumRepeats, subsets[1].ClassTokens, subsets[1].IsReg));
        Assert.Equal((dir.File("reg/1_dog"), 1, "dog", true), (subsets[2].ImageDirectory, subsets[2].NumRepeats, subsets[2].ClassTokens, subsets[2].IsReg));
        Assert.All(subsets, s => Assert.Equal(".txt", s.CaptionExtension));
        Assert.Equal(2, config.Datasets[0].BatchSize);

        Assert.Equal(2, warnings.Count);
        Assert.Contains(warnings, w => w.Contains("misc", StringComparison.Ordinal) && w.Contains("does not start with the number of repeats", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("0_zero", StringComparison.Ordinal) && w.Contains("less than 1", StringComparison.Ordinal));
    }

    [Fact]
    public void A_training_folder_without_usable_subfolders_is_an_error()
    {
        using var dir = TestPaths.NewTempDir();
        Directory.CreateDirectory(dir.File("train/photos"));
        var e = Assert.Throws<DatasetConfigException>(() => DatasetConfig.FromFolders(
            dir.File("train"), null, new DatasetOptions { Resolution = new PixelSize(512, 512) }, new SubsetOptions(), new List<string>()));
        Assert.Contains("N_concept words", e.Message, StringComparison.Ordinal);
        Assert.Throws<DatasetConfigException>(() => DatasetConfig.FromFolders(
            dir.File("nope"), null, new DatasetOptions { Resolution = new PixelSize(512, 512) }, new SubsetOptions(), new List<string>()));
    }
}
