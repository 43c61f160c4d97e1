using SdTune.Checkpoints.Safetensors;
using SdTune.IO;

namespace SdTune.Tests.Checkpoints.Safetensors;

public class SafetensorsValidationTests
{
    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, null)]
    [InlineData("""{"__metadata__":{"a":"b"},"w":{"dtype":"BOOL","shape":[],"data_offsets":[0,1]},"e":{"dtype":"F16","shape":[0],"data_offsets":[1,1]}}""", 1, null)]
    public void Valid_headers_open(string header, int data, string? unused)
    {
        _ = unused;
        using var dir = TestPaths.NewTempDir();
        using var file = SafetensorsFile.Open(SafetensorsTestFiles.Write(dir, header, data));
        Assert.NotEmpty(file.Tensors);
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, "run past")]
    [InlineData("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "needs 12 bytes")]
    [InlineData("""{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}""", 2, "unknown or unsupported dtype 'F8_E4M3'")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "appears twice")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "overlaps")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12, "gap of 4")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 12, "holds 12")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, "not a non-negative integer")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""", 4, "end before")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1]}}""", 4, "data_offsets")]
    [InlineData("""{"a":{"shape":[1],"data_offsets":[0,4]}}""", 4, "dtype")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}""", 4, "overflows")]
    [InlineData("""{"__metadata__":{"a":1}}""", 0, "not a string")]
    [InlineData("""{"a":{"dtype":"F32",""", 0, "not valid JSON")]
    [InlineData("""[1,2]""", 0, "not a JSON object")]
    public void Invalid_headers_are_rejected_with_a_message_naming_the_problem(string header, int data, string expected)
    {
        using var dir = TestPaths.NewTempDir();
        var path = SafetensorsTestFiles.Write(dir, header, data);
        var error = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.StartsWith(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Header_length_beyond_the_file_or_the_cap_is_rejected_before_allocating()
    {
        using var dir = TestPaths.NewTempDir();
        var tooLong = SafetensorsTestFiles.Write(dir, "{}", 0, declaredLength: 1000);
        Assert.Contains("past the end", Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(tooLong)).Message, StringComparison.Ordinal);
        var huge = SafetensorsTestFiles.Write(dir, "{}", 0, declaredLength: long.MaxValue);
        Assert.Contains("limit", Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(huge)).Message, StringComparison.Ordinal);
        var tiny = dir.File("tiny.safetensors");
        File.WriteAllBytes(tiny, [1, 2, 3]);
        Assert.Contains("too short", Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(tiny)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_and_missing_tensor_are_named()
    {
        using var dir = TestPaths.NewTempDir();
        var missing = dir.File("nope.safetensors");
        Assert.Contains("nope.safetensors", Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Open(missing)).Message, StringComparison.Ordinal);
        using var file = SafetensorsFile.Open(SafetensorsTestFiles.Write(dir, """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8));
        Assert.Contains("'x'", Assert.Throws<KeyNotFoundException>(() => file.Read("x")).Message, StringComparison.Ordinal);
    }
}
