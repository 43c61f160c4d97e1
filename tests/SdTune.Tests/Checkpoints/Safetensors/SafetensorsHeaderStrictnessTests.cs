using System.Text;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;

namespace SdTune.Tests.Checkpoints.Safetensors;

/// <summary>
/// What the reference reader (serde_json) refuses is refused here too, with a <see cref="CheckpointFormatException"/>
/// naming the file: escaped lone UTF-16 surrogates anywhere, bytes other than whitespace after the JSON object,
/// fields given twice. What it accepts loads: space padding, valid surrogate pairs, a null <c>__metadata__</c>.
/// </summary>
public class SafetensorsHeaderStrictnessTests
{
    private const string Tensor = """{"dtype":"F32","shape":[1],"data_offsets":[0,4]}""";

    [Theory]
    [InlineData("""{"__metadata__":{"\udc80":"v"},"w":TENSOR}""", "a __metadata__ key", @"\udc80")]
    [InlineData("""{"__metadata__":{"k":"x\ud800\u0041"},"w":TENSOR}""", "the __metadata__ value of 'k'", @"\ud800")]
    [InlineData("""{"__metadata__":{"k":"\ud800"},"w":TENSOR}""", "the __metadata__ value of 'k'", @"\ud800")]
    [InlineData("""{"w\udfff":TENSOR}""", "a tensor name", @"\udfff")]
    [InlineData("""{"w":{"dtype":"F3\udc802","shape":[1],"data_offsets":[0,4]}}""", "the dtype of tensor 'w'", @"\udc80")]
    [InlineData("""{"w":{"\ud800x":1,"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "a field name of tensor 'w'", @"\ud800")]
    [InlineData("""{"__metadata__":{"k":"\\udc80 is text, but \udc80 is not"},"w":TENSOR}""", "the __metadata__ value of 'k'", @"\udc80")]
    public void Escaped_lone_surrogates_are_refused_naming_the_file_the_place_and_the_escape(string header, string place, string escape)
    {
        using var dir = TestPaths.NewTempDir();
        var path = SafetensorsTestFiles.Write(dir, header.Replace("TENSOR", Tensor, StringComparison.Ordinal), 4);
        var error = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(path));
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(place, error.Message, StringComparison.Ordinal);
        Assert.Contains(escape, error.Message, StringComparison.Ordinal);
        Assert.Contains("lone UTF-16 surrogate", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Escaped_surrogate_pairs_and_other_escapes_load_as_their_characters()
    {
        using var dir = TestPaths.NewTempDir();
        var path = SafetensorsTestFiles.Write(dir, """{"__metadata__":{"smile":"\ud83d\ude00","\u0061":"\"q\"\n\u00e9"},"w\u0031":""" + Tensor + "}", 4);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal("\U0001F600", file.Metadata["smile"]);
        Assert.Equal("\"q\"\n\u00e9", file.Metadata["a"]);
        Assert.Equal("w1", Assert.Single(file.Tensors).Name);
    }

    [Theory]
    [InlineData("x")]
    [InlineData("\0")]
    [InlineData("\0\0\0\0\0\0\0")]
    [InlineData("   \0")]
    [InlineData("{}")]
    [InlineData(" // comment")]
    [InlineData("\u00a0")] // a no-break space is not JSON whitespace
    public void Bytes_after_the_json_object_are_refused(string trailing)
    {
        using var dir = TestPaths.NewTempDir();
        var header = "{\"w\":" + Tensor + "}" + trailing;
        var path = SafetensorsTestFiles.Write(dir, header, 4);
        var error = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(path));
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains("after its JSON object", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("       ")] // what the reference writer pads with (spaces up to an 8-byte boundary)
    [InlineData(" \n\t\r ")] // every JSON whitespace character, as the reference reader accepts
    public void Whitespace_padding_after_the_object_loads(string padding)
    {
        using var dir = TestPaths.NewTempDir();
        using var file = SafetensorsFile.Open(SafetensorsTestFiles.Write(dir, "{\"w\":" + Tensor + "}" + padding, 4));
        Assert.Equal("w", Assert.Single(file.Tensors).Name);
        Assert.Equal(8 + Encoding.UTF8.GetByteCount("{\"w\":" + Tensor + "}" + padding), file.Header.DataStart);
    }

    [Fact]
    public void A_null_metadata_map_loads_as_empty_as_the_reference_reads_it()
    {
        using var dir = TestPaths.NewTempDir();
        using var file = SafetensorsFile.Open(SafetensorsTestFiles.Write(dir, "{\"__metadata__\":null,\"w\":" + Tensor + "}", 4));
        Assert.Empty(file.Metadata);
        Assert.Single(file.Tensors);
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "'dtype' appears twice")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"shape":[1],"data_offsets":[0,4]}}""", "'shape' appears twice")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"data_offsets":[0,4]}}""", "'data_offsets' appears twice")]
    [InlineData("""{"__metadata__":{},"__metadata__":{},"w":TENSOR}""", "__metadata__ appears twice")]
    [InlineData("""{"a":TENSOR,"\u0061":TENSOR}""", "tensor 'a' appears twice")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}""", "shape entry 1.0 is not a non-negative integer")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1e0],"data_offsets":[0,4]}}""", "shape entry 1e0 is not a non-negative integer")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}}""", "array of two integers")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}""", "array of two integers")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,99999999999999999999]}}""", "not a non-negative integer")]
    public void Fields_given_twice_and_numbers_that_are_not_plain_integers_are_refused(string header, string expected)
    {
        using var dir = TestPaths.NewTempDir();
        var path = SafetensorsTestFiles.Write(dir, header.Replace("TENSOR", Tensor, StringComparison.Ordinal), 4);
        var error = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_fields_of_a_tensor_entry_are_ignored_as_the_reference_ignores_them()
    {
        using var dir = TestPaths.NewTempDir();
        var header = """{"w":{"note":{"a":[1,[2,{"b":null}]]},"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":"y"}}""";
        using var file = SafetensorsFile.Open(SafetensorsTestFiles.Write(dir, header, 4));
        Assert.Equal([1L], Assert.Single(file.Tensors).Shape);
    }
}
