using SdTune.Checkpoints;
using SdTune.Checkpoints.Inspection;
using SdTune.IO;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Models.Vae;
using SdTune.Schedulers;
using SdTune.Text;
using SdTune.Training.Data;

namespace SdTune.Tests.Checkpoints.Formats;

/// <summary>
/// JSON from model files (configs, tokenizer files, shard indexes, pipeline indexes) with an escaped lone UTF-16
/// surrogate, a repeated name or a root of the wrong kind: an error that names the file, never the
/// <see cref="InvalidOperationException"/> or <see cref="ArgumentException"/> System.Text.Json throws when such a
/// value is read.
/// </summary>
public class UntrustedJsonTests
{
    public static TheoryData<string, string> ConfigFiles => new()
    {
        { "clip", """{"hidden_act":"quick_gelu\udc80"}""" },
        { "scheduler", """{"\ud800":1,"num_train_timesteps":1000}""" },
        { "unet", """{"_class_name":"UNet2DConditionModel","act_fn":["\ud800\u0041"]}""" },
        { "vae", """{"_class_name":"AutoencoderKL","nested":{"deep":["\udfff"]}}""" },
    };

    [Theory]
    [MemberData(nameof(ConfigFiles))]
    public void Model_configs_with_a_lone_surrogate_name_the_file(string kind, string json)
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("config.json");
        File.WriteAllText(path, json);
        Action load = kind switch
        {
            "clip" => () => ClipTextConfig.FromJsonFile(path),
            "scheduler" => () => NoiseScheduleConfig.FromJsonFile(path),
            "unet" => () => UNet2DConditionConfig.Load(path),
            _ => () => AutoencoderKLConfig.Load(path),
        };
        var error = Assert.Throws<CheckpointFormatException>(load);
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains("lone UTF-16 surrogate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tokenizer_files_with_a_lone_surrogate_name_the_file()
    {
        using var dir = TestPaths.NewTempDir();
        File.WriteAllText(dir.File("vocab.json"), """{"a</w>":0,"\udc80</w>":1}""");
        File.WriteAllText(dir.File("merges.txt"), "#version: 0.2\n");
        var error = Assert.Throws<InvalidDataException>(() => TransformersTokenizerFolder.Read(dir.Path));
        Assert.Contains(dir.File("vocab.json"), error.Message, StringComparison.Ordinal);
        Assert.Contains(@"\udc80, a lone UTF-16 surrogate", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"weight_map":{"w\udc80":"a.safetensors"}}""", "lone UTF-16 surrogate")]
    [InlineData("""{"weight_map":{"w":7}}""", "weight_map entry 'w' is a Number, not a shard file name")]
    public void Shard_indexes_that_cannot_be_read_name_the_file(string json, string expected)
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("model.safetensors.index.json");
        File.WriteAllText(path, json);
        var error = Assert.Throws<CheckpointFormatException>(() => TensorSources.Open(path));
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"_class_name":"StableDiffusionPipeline\ud800","unet":["diffusers","UNet2DConditionModel"]}""", "lone UTF-16 surrogate", false)]
    [InlineData("""["StableDiffusionPipeline"]""", "expected a JSON object", false)]
    [InlineData("""{"_class_name":"StableDiffusionPipeline","_class_name":"StableDiffusionPipeline"}""", "has the property '_class_name' twice", true)]
    [InlineData("""{"_class_name":"StableDiffusionPipeline","unet":["diffusers","\udc80"]}""", "lone UTF-16 surrogate", true)]
    public void Pipeline_indexes_that_cannot_be_read_name_the_file_when_inspected_or_loaded(string json, string expected, bool load)
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("model_index.json");
        File.WriteAllText(path, json);
        Action open = load ? () => DiffusersPipelineFormat.Load(dir.Path).Dispose() : () => ModelInspector.Inspect(dir.Path);
        var error = Assert.Throws<CheckpointFormatException>(open);
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Fine_tune_metadata_with_a_lone_surrogate_names_the_file()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("meta.json");
        File.WriteAllText(path, """{"img\udc80":{"caption":"a cat"}}""");
        var error = Assert.Throws<DatasetException>(() => FineTuneMetadata.Read(new SubsetOptions { MetadataFile = path, ImageDirectory = dir.Path }));
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains("lone UTF-16 surrogate", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"\\udc80\"", @"\udc80")]
    [InlineData("\"x\\ud800\\u0041\"", @"\ud800")]
    [InlineData("\"\\ud83d\\ude00 then \\ude00\"", @"\ude00")]
    [InlineData("\"\\\\udc80 \\\\\\ud800\"", @"\ud800")] // an escaped backslash before "udc80" is text, not an escape
    [InlineData("\"\\ud83d\\ude00\"", null)]
    [InlineData("\"\\u00e9\\n\\\"\"", null)]
    public void The_first_lone_surrogate_escape_is_found(string raw, string? expected) =>
        Assert.Equal(expected, StrictJson.FindLoneSurrogateEscape(System.Text.Encoding.ASCII.GetBytes(raw)));
}
