using System.Buffers.Binary;
using System.Text;
using SdTune.Checkpoints.Safetensors;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Formats;

/// <summary>
/// The bytes of a written safetensors file are the bytes Python's <c>safetensors</c> package writes for the same
/// tensors and metadata. Its Rust core orders tensors by descending dtype alignment, then by name (UTF-8 bytes),
/// writes <c>__metadata__</c> first, serialises with serde_json (compact; <c>\"</c>, <c>\\</c>, <c>\b \f \n \r \t</c>,
/// other control characters as lower-case <c>\u00xx</c>; everything else, <c>/</c> and DEL included, raw UTF-8) and
/// pads the header with spaces to a multiple of 8 bytes.
/// </summary>
public class SafetensorsWriterBytesTests
{
    private const string Value = "a \"b\" c\\d\ne\tf\u0001g\u007fh/i é日本😀\b\f\r";

    // Written by hand from the rules above (and cross-checked with Python's json.dumps(ensure_ascii=False,
    // separators=(",", ":")), which follows the same rules for strings and integers).
    private const string ExpectedHeader =
        "{\"__metadata__\":{\"q\\\"k\":\"a \\\"b\\\" c\\\\d\\ne\\tf\\u0001g\u007fh/i é日本😀\\b\\f\\r\"},"
        + "\"c\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]},"
        + "\"B\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[16,24]},"
        + "\"a\":{\"dtype\":\"F16\",\"shape\":[1,1],\"data_offsets\":[24,26]},"
        + "\"Ａ\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[26,29]},"
        + "\"😀\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[29,30]}}"
        + "      ";

    private static List<KeyValuePair<string, Tensor>> Tensors() =>
    [
        // Given in an order the reference does not use: it sorts by dtype (I64, F32, F16, U8), then by name bytes
        // ("B" before "b"; U+FF21 before U+1F600, although UTF-16 code units would order them the other way).
        new("😀", tensor(new byte[] { 9 })),
        new("a", tensor(new float[] { 1 }).to(ScalarType.Float16).reshape(1, 1)),
        new("b", tensor(new float[] { 3, 4 }).reshape(1, 2)),
        new("Ａ", tensor(new byte[] { 1, 2, 3 })),
        new("c", tensor(new long[] { 7 })),
        new("B", tensor(new float[] { 1, 2 })),
    ];

    private static byte[] ExpectedData() =>
    [
        .. BitConverter.GetBytes(7L),
        .. BitConverter.GetBytes(1f), .. BitConverter.GetBytes(2f),
        .. BitConverter.GetBytes(3f), .. BitConverter.GetBytes(4f),
        .. BitConverter.GetBytes((Half)1),
        1, 2, 3,
        9,
    ];

    private static void AssertReferenceBytes(byte[] file)
    {
        var header = Encoding.UTF8.GetBytes(ExpectedHeader);
        Assert.Equal(0, header.Length % 8);
        Assert.Equal((ulong)header.Length, BinaryPrimitives.ReadUInt64LittleEndian(file));
        Assert.Equal(ExpectedHeader, Encoding.UTF8.GetString(file, 8, header.Length));
        Assert.Equal([.. new byte[8], .. header, .. ExpectedData()], [.. new byte[8], .. file.AsSpan(8)]);
    }

    [Fact]
    public void Header_and_data_are_byte_identical_to_the_reference_writer()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("t.safetensors");
        var tensors = Tensors();
        SafetensorsWriter.Save(path, tensors, new Dictionary<string, string> { ["q\"k"] = Value });
        AssertReferenceBytes(File.ReadAllBytes(path));

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(Value, file.Metadata["q\"k"]);
        foreach (var (_, t) in tensors)
        {
            t.Dispose();
        }
    }

    [Fact]
    public void Streamed_tensors_are_produced_and_written_in_the_reference_order()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("t.safetensors");
        var tensors = Tensors();
        var layout = tensors.Select(t => new SafetensorsTensorLayout(t.Key, SafetensorsDTypes.FromScalarType(t.Value.dtype), t.Value.shape)).ToList();
        var produced = new List<string>();
        SafetensorsWriter.Save(path, layout, i =>
        {
            produced.Add(layout[i].Name);
            return tensors[i].Value.clone();
        }, new Dictionary<string, string> { ["q\"k"] = Value });

        AssertReferenceBytes(File.ReadAllBytes(path));
        Assert.Equal(["c", "B", "b", "a", "Ａ", "😀"], produced);
        foreach (var (_, t) in tensors)
        {
            t.Dispose();
        }
    }

    [Fact]
    public void Empty_metadata_is_written_as_an_empty_map_and_no_metadata_as_none()
    {
        using var dir = TestPaths.NewTempDir();
        using var t = tensor(new float[] { 1 });
        SafetensorsWriter.Save(dir.File("empty.safetensors"), [new("w", t)], new Dictionary<string, string>());
        SafetensorsWriter.Save(dir.File("none.safetensors"), [new("w", t)]);

        string Header(string name)
        {
            var bytes = File.ReadAllBytes(dir.File(name));
            return Encoding.UTF8.GetString(bytes, 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        }

        Assert.Equal("{\"__metadata__\":{},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", Header("empty.safetensors"));
        Assert.Equal("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}  ", Header("none.safetensors"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Metadata_that_is_not_valid_unicode_is_refused_by_key(bool inKey)
    {
        // Built here: attribute arguments are stored as UTF-8, which turns a lone surrogate into U+FFFD.
        var (key, value) = inKey ? ("bad\udc80key", "value") : ("key", "lone \ud800 surrogate");
        using var dir = TestPaths.NewTempDir();
        using var t = tensor(new float[] { 1 });
        var path = dir.File("bad.safetensors");
        var error = Assert.Throws<ArgumentException>(() => SafetensorsWriter.Save(path, [new("w", t)], new Dictionary<string, string> { [key] = value }));

        Assert.Contains("metadata", error.Message, StringComparison.Ordinal);
        Assert.Contains("surrogate", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }
}
