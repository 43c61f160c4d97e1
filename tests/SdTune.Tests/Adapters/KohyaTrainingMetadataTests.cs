using SdTune.Training;
using SdTune.Training.Data;
using SdTune.Training.Methods;

namespace SdTune.Tests.Adapters;

/// <summary>
/// The dataset keys of a trained LoRA are sd-scripts' (train_network.py with a dataset config): <c>ss_datasets</c>
/// with each dataset's and subset's keys in its order, <c>ss_dataset_dirs</c> without regularisation subsets and with
/// repeated folder names numbered, <c>ss_tag_frequency</c> merged over datasets; all written by <c>json.dumps</c>.
/// </summary>
public class KohyaTrainingMetadataTests
{
    private static TrainingRunInfo Run(DatasetSummary summary) => new()
    {
        Config = new TrainingConfig(),
        SessionId = 1,
        StartedAt = DateTimeOffset.UnixEpoch,
        Step = 10,
        Epoch = 1,
        TotalSteps = 10,
        TotalEpochs = 1,
        BatchesPerEpoch = 10,
        TrainImages = 30,
        RegImages = 3,
        Optimizer = "AdamW",
        WarmupSteps = 0,
        Dataset = summary,
        Resolution = new PixelSize(512, 512),
    };

    private static readonly SubsetSummary Dog = new(0, 0, "data/10_sks dog/", 2, 10, false, "sks dog");
    private static readonly SubsetSummary Reg = new(0, 1, "reg/1_dog", 3, 1, true, "dog");

    /// <summary>A training and a regularisation subset, and a second dataset whose folder has the first's name.</summary>
    private static DatasetSummary TwoDatasets() => new()
    {
        Subsets = [Dog, Reg, new SubsetSummary(1, 0, "other/10_sks dog", 1, 10, false, null)],
        TrainImagesWithRepeats = 30,
        RegImagesWithRepeats = 3,
        BatchesPerEpoch = 10,
        Buckets = [null, null],
        BatchSizes = [2, 1],
        Resolutions = [new PixelSize(512, 512), new PixelSize(768, 512)],
    };

    [Fact]
    public void Dataset_dirs_leave_out_regularisation_subsets_and_number_repeated_folder_names()
    {
        var summary = TwoDatasets();

        var metadata = KohyaTrainingMetadata.Build(Run(summary), DateTimeOffset.UnixEpoch);

        Assert.Equal("""{"10_sks dog": {"n_repeats": 10, "img_count": 2}, "10_sks dog (2)": {"n_repeats": 10, "img_count": 1}}""", metadata["ss_dataset_dirs"]);
    }

    [Fact]
    public void Datasets_and_tag_frequency_hold_sd_scripts_keys_in_its_order()
    {
        var summary = TwoDatasets() with
        {
            Options =
            [
                new DatasetOptions { Subsets = [new SubsetOptions { FlipAug = true, CaptionPrefix = "a \"photo\"" }, new SubsetOptions { IsReg = true }] },
                new DatasetOptions { MinBucketReso = 320, Subsets = [new SubsetOptions()] },
            ],
            TagFrequencies =
            [
                TagFrequency.Count([("10_sks dog", "sks dog, Outdoors,,  outdoors "), ("10_sks dog", "SKS dog, 日本"), ("1_dog", "dog"), ("1_dog", "dog"), ("1_dog", "dog")]),
                TagFrequency.Count([("10_sks dog", "other")]),
            ],
        };

        var metadata = KohyaTrainingMetadata.Build(Run(summary), DateTimeOffset.UnixEpoch);

        Assert.Equal("""{"10_sks dog": {"sks dog": 2, "outdoors": 2, "\u65e5\u672c": 1}, "1_dog": {"dog": 3}}""", metadata["ss_tag_frequency"]);
        var subset = """{"img_count": 2, "num_repeats": 10, "color_aug": false, "flip_aug": true, "random_crop": false, "shuffle_caption": false,"""
            + """ "keep_tokens": 0, "keep_tokens_separator": "", "secondary_separator": null, "enable_wildcard": false, "caption_prefix": "a \"photo\"","""
            + """ "caption_suffix": null, "image_dir": "10_sks dog", "class_tokens": "sks dog", "is_reg": false}""";
        var reg = """{"img_count": 3, "num_repeats": 1, "color_aug": false, "flip_aug": false, "random_crop": false, "shuffle_caption": false,"""
            + """ "keep_tokens": 0, "keep_tokens_separator": "", "secondary_separator": null, "enable_wildcard": false, "caption_prefix": null,"""
            + """ "caption_suffix": null, "image_dir": "1_dog", "class_tokens": "dog", "is_reg": true}""";
        var first = """{"is_dreambooth": true, "batch_size_per_device": 2, "num_train_images": 30, "num_reg_images": 3, "resolution": [512, 512],"""
            + """ "enable_bucket": false, "min_bucket_reso": 256, "max_bucket_reso": 1024,"""
            + """ "tag_frequency": {"10_sks dog": {"sks dog": 2, "outdoors": 2, "\u65e5\u672c": 1}, "1_dog": {"dog": 3}}, "bucket_info": null,"""
            + $" \"subsets\": [{subset}, {reg}]}}";
        Assert.StartsWith("[" + first + ", {", metadata["ss_datasets"], StringComparison.Ordinal);
        Assert.Contains(""" "min_bucket_reso": 320, """, metadata["ss_datasets"], StringComparison.Ordinal);
    }
}
