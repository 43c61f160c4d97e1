using SdTune.Training.Data;

namespace SdTune.Tests.Training.Data;

public class DatasetConfigTests
{
    private const string Example = """
        [general]
        shuffle_caption = true
        caption_extension = ".txt"
        keep_tokens = 1
        prior_loss_weight = 0.5

        [[datasets]]
        resolution = 1024
        batch_size = 2
        enable_bucket = true
        bucket_reso_steps = 32
        keep_tokens = 2

          [[datasets.subsets]]
          image_dir = "train/10_sks dog"
          num_repeats = 10
          class_tokens = "sks dog"
          keep_tokens = 3

          [[datasets.subsets]]
          image_dir = "reg/dog"
          is_reg = true
          class_tokens = "dog"
          caption_extension = "caption"

        [[datasets]]
        resolution = [768, 512]
          [[datasets.subsets]]
          image_dir = "/abs/other"
          resize_interpolation = "cubic"
          face_crop_aug_range = [2.0, 4]
          custom_attributes = { diff_output_preservation = true }
        """;

    [Fact]
    public void The_documented_example_parses_with_inheritance_and_defaults()
    {
        var config = DatasetConfig.Parse(Example, "ds.toml", "/base");
        Assert.Equal(0.5, config.PriorLossWeight);
        Assert.Equal(2, config.Datasets.Count);

        var d = config.Datasets[0];
        Assert.Equal(new PixelSize(1024, 1024), d.Resolution);
        Assert.Equal(2, d.BatchSize);
        Assert.True(d.EnableBucket);
        Assert.Equal(32, d.BucketResoSteps);
        Assert.Equal(256, d.MinBucketReso);
        Assert.Equal(1024, d.MaxBucketReso);
        Assert.False(d.BucketNoUpscale);

        var train = d.Subsets[0];
        Assert.Equal(Path.GetFullPath("/base/train/10_sks dog"), train.ImageDirectory);
        Assert.Equal(10, train.NumRepeats);
        Assert.Equal("sks dog", train.ClassTokens);
        Assert.Equal(3, train.KeepTokens); // subset overrides dataset (2) and general (1)
        Assert.True(train.ShuffleCaption); // from [general]
        Assert.Equal(".txt", train.CaptionExtension);
        Assert.False(train.IsReg);
        Assert.False(train.FlipAug);
        Assert.Equal(",", train.CaptionSeparator);
        Assert.Null(train.ResizeInterpolation);
        Assert.Null(train.KeepTokensSeparator);
        Assert.Null(d.ValidationSeed);
        Assert.Empty(train.CustomAttributes);

        var reg = d.Subsets[1];
        Assert.True(reg.IsReg);
        Assert.Equal(2, reg.KeepTokens); // dataset overrides general
        Assert.Equal(1, reg.NumRepeats);
        Assert.Equal(".caption", reg.CaptionExtension); // a missing dot is added

        var other = config.Datasets[1];
        Assert.Equal(new PixelSize(768, 512), other.Resolution);
        Assert.Equal(1, other.BatchSize);
        Assert.False(other.EnableBucket);
        Assert.Equal("/abs/other", other.Subsets[0].ImageDirectory);
        Assert.Equal(1, other.Subsets[0].KeepTokens);
        Assert.Equal(ResizeInterpolation.Bicubic, other.Subsets[0].ResizeInterpolation);
        Assert.Equal((2.0, 4.0), other.Subsets[0].FaceCropAugRange);
        Assert.Equal(true, other.Subsets[0].CustomAttributes["diff_output_preservation"]);
    }

    private static DatasetConfigException Fails(string toml) =>
        Assert.Throws<DatasetConfigException>(() => DatasetConfig.Parse(toml, "bad.toml"));

    private static string Wrap(string datasetKeys = "", string subsetKeys = "", string general = "") => $"""
        [general]
        {general}
        [[datasets]]
        resolution = 512
        {datasetKeys}
          [[datasets.subsets]]
          image_dir = "x"
          {subsetKeys}
        """;

    [Fact]
    public void Unknown_keys_are_rejected_with_the_level_file_and_valid_keys()
    {
        var e = Fails(Wrap(subsetKeys: "num_repeat = 3"));
        Assert.Contains("bad.toml", e.Message, StringComparison.Ordinal);
        Assert.Contains("[[datasets.subsets]] #1.1", e.Message, StringComparison.Ordinal);
        Assert.Contains("'num_repeat'", e.Message, StringComparison.Ordinal);
        Assert.Contains("num_repeats", e.Message, StringComparison.Ordinal);
        Assert.Contains("image_dir", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Keys_at_the_wrong_level_are_rejected()
    {
        Assert.Contains("[[datasets.subsets]] #1.1: key not allowed at this level 'batch_size'", Fails(Wrap(subsetKeys: "batch_size = 2")).Message, StringComparison.Ordinal);
        Assert.Contains("[[datasets]] #1: key not allowed at this level 'image_dir'", Fails(Wrap(datasetKeys: "image_dir = \"y\"")).Message, StringComparison.Ordinal);
        Assert.Contains("[general]: key not allowed at this level 'is_reg'", Fails(Wrap(general: "is_reg = true")).Message, StringComparison.Ordinal);
        Assert.Contains("unknown top-level key 'dataset'", Fails("[dataset]\nx = 1").Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "num_repeats = \"10\"", "[[datasets.subsets]] #1.1: key 'num_repeats' must be an integer, got the string \"10\"")]
    [InlineData("", "flip_aug = 1", "key 'flip_aug' must be true or false, got the integer 1")]
    [InlineData("batch_size = 1.5", "", "[[datasets]] #1: key 'batch_size' must be an integer")]
    [InlineData("", "caption_dropout_rate = \"0.1\"", "key 'caption_dropout_rate' must be a number")]
    [InlineData("", "resize_interpolation = \"fancy\"", "key 'resize_interpolation' must be one of lanczos")]
    [InlineData("", "face_crop_aug_range = [1.0]", "key 'face_crop_aug_range' must be [low, high]")]
    [InlineData("", "caption_dropout_rate = 1.5", "key 'caption_dropout_rate': 1.5 is out of range; expected a number in [0, 1]")]
    [InlineData("batch_size = 0", "", "key 'batch_size': 0 is out of range; expected an integer from 1 to 65536")]
    [InlineData("max_bucket_reso = 100000", "", "[[datasets]] #1: key 'max_bucket_reso': 100000 is out of range; expected an integer from 8 to 8192")]
    [InlineData("", "num_repeats = 2147483647", "[[datasets.subsets]] #1.1: key 'num_repeats': 2147483647 is out of range; expected an integer from 0 to 10000")]
    [InlineData("network_multiplier = 1e39", "", "key 'network_multiplier': 1e+39 is out of range; expected a number that fits in float32")]
    [InlineData("", "caption_tag_dropout_rate = nan", "key 'caption_tag_dropout_rate': NaN is out of range")]
    [InlineData("", "keep_tokens = -1", "key 'keep_tokens': -1 is out of range; expected an integer from 0 to 2147483647")]
    public void Wrong_types_and_values_name_the_key_and_level(string datasetKeys, string subsetKeys, string expected)
    {
        Assert.Contains(expected, Fails(Wrap(datasetKeys, subsetKeys)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("resolution = [512]")]
    [InlineData("resolution = [512, \"512\"]")]
    [InlineData("resolution = -1")]
    [InlineData("resolution = \"512\"")]
    public void Resolution_must_be_an_int_or_a_pair(string resolution)
    {
        var toml = $"[[datasets]]\n{resolution}\n[[datasets.subsets]]\nimage_dir = \"x\"";
        Assert.Contains("key 'resolution' must be a positive integer or [width, height]", Fails(toml).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolution_is_required_and_may_come_from_general()
    {
        Assert.Contains("key 'resolution' is required", Fails("[[datasets]]\n[[datasets.subsets]]\nimage_dir = \"x\"").Message, StringComparison.Ordinal);
        var config = DatasetConfig.Parse("[general]\nresolution = [640, 448]\n[[datasets]]\n[[datasets.subsets]]\nimage_dir = \"x\"", "ok.toml");
        Assert.Equal(new PixelSize(640, 448), config.Datasets[0].Resolution);
    }

    [Fact]
    public void Image_dir_is_required_for_dreambooth_subsets()
    {
        var e = Fails("[[datasets]]\nresolution = 512\n[[datasets.subsets]]\nnum_repeats = 2");
        Assert.Contains("[[datasets.subsets]] #1.1: key 'image_dir' is required", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dreambooth_and_fine_tune_subsets_cannot_be_mixed()
    {
        var toml = "[[datasets]]\nresolution = 512\n[[datasets.subsets]]\nimage_dir = \"a\"\n[[datasets.subsets]]\nmetadata_file = \"m.json\"";
        Assert.Contains("[[datasets]] #1 mixes DreamBooth subsets", Fails(toml).Message, StringComparison.Ordinal);

        var fineTune = DatasetConfig.Parse("[[datasets]]\nresolution = 512\n[[datasets.subsets]]\nmetadata_file = \"m.json\"", "ft.toml");
        Assert.True(fineTune.Datasets[0].Subsets[0].IsFineTune);
    }

    [Theory]
    [InlineData("bucket_reso_steps = 48", "bucket_reso_steps' 48 does not divide min_bucket_reso 256")]
    [InlineData("bucket_reso_steps = 64\nmax_bucket_reso = 1000", "bucket_reso_steps' 64 does not divide max_bucket_reso 1000")]
    [InlineData("min_bucket_reso = 640", "key 'min_bucket_reso' (640) must not exceed the smaller side of resolution 512x512")]
    [InlineData("bucket_reso_steps = 0", "key 'bucket_reso_steps': 0 is out of range; expected an integer from 1 to 8192")]
    public void Bucket_settings_are_checked(string keys, string expected)
    {
        Assert.Contains(expected, Fails(Wrap("enable_bucket = true\n" + keys)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Model_step_requirement_names_the_dataset()
    {
        var config = DatasetConfig.Parse(Wrap("enable_bucket = true\nbucket_reso_steps = 32"), "sd.toml");
        config.ValidateBucketResoSteps(32);
        var e = Assert.Throws<DatasetConfigException>(() => config.ValidateBucketResoSteps(64));
        Assert.Contains("sd.toml: [[datasets]] #1: key 'bucket_reso_steps' is 32", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Toml_syntax_errors_and_empty_configs_name_the_file()
    {
        Assert.Contains("bad.toml: invalid TOML", Fails("[[datasets]\nx = ").Message, StringComparison.Ordinal);
        Assert.Contains("no [[datasets]] block", Fails("[general]\nbatch_size = 1").Message, StringComparison.Ordinal);
        Assert.Contains("[[datasets]] #1 has no [[datasets.subsets]]", Fails("[[datasets]]\nresolution = 512").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_reads_a_file_and_resolves_paths_against_its_folder()
    {
        using var dir = TestPaths.NewTempDir();
        var path = DataTestFiles.Text(dir.File("cfg/ds.toml"), "[[datasets]]\nresolution = 512\n[[datasets.subsets]]\nimage_dir = \"imgs\"");
        var config = DatasetConfig.Load(path);
        Assert.Equal(path, config.Source);
        Assert.Equal(Path.Combine(dir.Path, "cfg", "imgs"), config.Datasets[0].Subsets[0].ImageDirectory);
        Assert.Contains("missing.toml", Assert.Throws<DatasetConfigException>(() => DatasetConfig.Load(dir.File("missing.toml"))).Message, StringComparison.Ordinal);
    }
}
