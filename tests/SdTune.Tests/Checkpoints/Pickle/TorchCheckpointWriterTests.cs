using System.Buffers.Binary;
using System.IO.Compression;
using SdTune.Checkpoints.Pickle;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Pickle;

public sealed class TorchCheckpointWriterTests
{
    private static List<KeyValuePair<string, Tensor>> SampleStateDict()
    {
        var generator = new Generator(1234);
        return
        [
            new("z.weight", randn([3, 4], generator: generator)),
            new("a.half", randn([5], generator: generator).to_type(ScalarType.Float16)),
            new("m.bf16", randn([2, 2], generator: generator).to_type(ScalarType.BFloat16)),
            new("b.long", tensor(new long[] { long.MinValue, -1, 0, 1L << 40, long.MaxValue })),
            new("c.bool", tensor(new[] { true, false, true, true })),
            new("d.scalar", tensor(3.25)),
            new("e.empty", zeros([0, 7])),
            new("f.transposed", arange(12, dtype: ScalarType.Float32).reshape(3, 4).t()),
            new("g.int8", tensor(new sbyte[] { -128, 5, 127 })),
        ];
    }

    [Fact]
    public void Save_then_load_gives_back_the_exact_bytes_shapes_dtypes_and_order()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("model.ckpt");
        var original = SampleStateDict();
        TorchCheckpointWriter.Save(path, original);

        var loaded = TorchCheckpointReader.ReadStateDict(path);
        Assert.Equal(original.Select(e => e.Key), loaded.Select(e => e.Key));
        for (var i = 0; i < original.Count; i++)
        {
            var expected = original[i].Value.contiguous();
            var actual = loaded[i].Value;
            Assert.Equal(expected.dtype, actual.dtype);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(expected.bytes.SequenceEqual(actual.bytes), original[i].Key);
        }

        // Also as the generic object tree: an OrderedDict at the top, as torch.save(state_dict) writes.
        var root = Assert.IsType<PickleDictionary>(TorchPickleFile.Load(path));
        Assert.True(root.IsOrderedDict);
        Assert.Equal(original.Count, root.Count);
    }

    [Fact]
    public void Writes_a_torch_style_zip_with_64_byte_aligned_storages()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("model.pt");
        TorchCheckpointWriter.Save(path, SampleStateDict());

        var bytes = File.ReadAllBytes(path);
        using var zip = ZipFile.OpenRead(path);
        Assert.Equal("archive/data.pkl", zip.Entries[0].FullName);
        Assert.Contains(zip.Entries, e => e.FullName == "archive/byteorder");
        Assert.Contains(zip.Entries, e => e.FullName == "archive/version");
        var offset = 0;
        var storages = 0;
        while (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset)) == 0x04034b50)
        {
            Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 8))); // stored
            var size = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset + 22));
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 26));
            var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset + 28));
            var name = System.Text.Encoding.ASCII.GetString(bytes, offset + 30, nameLength);
            var dataStart = offset + 30 + nameLength + extraLength;
            Assert.True(dataStart % 64 == 0, $"{name} data starts at {dataStart}");
            storages += name.StartsWith("archive/data/", StringComparison.Ordinal) ? 1 : 0;
            offset = dataStart + (int)size;
        }

        Assert.Equal(SampleStateDict().Count, storages);

        // System.IO.Compression agrees on every entry (CRCs included: it validates them while reading).
        foreach (var entry in zip.Entries)
        {
            using var stream = entry.Open();
            stream.CopyTo(Stream.Null);
        }
    }

    [Fact]
    public void Zip64_records_are_readable_by_both_readers()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("model64.ckpt");
        TorchCheckpointWriter.Save(path, SampleStateDict(), forceZip64: true);
        using (var zip = ZipFile.OpenRead(path))
        {
            Assert.Equal(SampleStateDict().Count + 3, zip.Entries.Count);
        }

        var loaded = TorchCheckpointReader.ReadStateDict(path);
        Assert.Equal([0f, 4f, 8f, 1f], TorchPickleFileGoldenTests.Floats(loaded.Single(e => e.Key == "f.transposed").Value)[..4]);
    }

    [Fact]
    public void Saving_replaces_an_existing_file_and_leaves_no_temporary_behind()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("model.ckpt");
        File.WriteAllText(path, "old");
        TorchCheckpointWriter.Save(path, [new("w", ones(2))]);
        Assert.Equal([1f, 1f], TorchPickleFileGoldenTests.Floats(TorchCheckpointReader.ReadStateDict(path)[0].Value));
        Assert.Equal([path], Directory.GetFiles(dir.Path));

        // A failing save (duplicate names) leaves the previous checkpoint untouched.
        Assert.Throws<ArgumentException>(() => TorchCheckpointWriter.Save(path, [new("w", zeros(1)), new("w", zeros(1))]));
        Assert.Equal([path], Directory.GetFiles(dir.Path));
        Assert.Equal([1f, 1f], TorchPickleFileGoldenTests.Floats(TorchCheckpointReader.ReadStateDict(path)[0].Value));
    }

    [Fact]
    public void Any_tree_of_python_values_round_trips()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("tree.pt");
        using var weight = arange(6, dtype: ScalarType.Float32).reshape(2, 3);
        using var bias = arange(3, dtype: ScalarType.Float16);
        var state = PickleDictionary.Of([new("linear.0.weight", weight), new("linear.0.bias", bias)], isOrderedDict: true);
        var root = PickleDictionary.Of(
        [
            new(768L, PickleTuple.Of(state, state)),
            new("name", "ünïcode"),
            new("step", 70000L),
            new("big", 1L << 40),
            new("negative", -5L),
            new("rate", 0.3),
            new("flags", new List<object?> { true, false, null }),
            new("structure", new List<object?> { 1L, 2L, 1L }),
            new("empty", PickleTuple.Of()),
            new("long_tuple", PickleTuple.Of(1L, 2L, 3L, 4L)),
        ]);
        TorchCheckpointWriter.SaveObject(path, root);

        var read = Assert.IsType<PickleDictionary>(TorchPickleFile.Load(path));
        Assert.False(read.IsOrderedDict);
        Assert.Equal(root.Keys, read.Keys);
        var pair = Assert.IsType<PickleTuple>(read[768L]);
        var k = Assert.IsType<PickleDictionary>(pair[0]);
        Assert.True(k.IsOrderedDict);
        Assert.Equal(["linear.0.weight", "linear.0.bias"], k.Keys.Cast<string>());
        Assert.True(weight.equal((Tensor)k["linear.0.weight"]!).all().item<bool>());
        var readBias = (Tensor)k["linear.0.bias"]!;
        Assert.Equal(ScalarType.Float16, readBias.dtype);
        Assert.True(bias.equal(readBias).all().item<bool>());
        Assert.Equal(("ünïcode", 70000L, 1L << 40, -5L, 0.3), ((string)read["name"]!, (long)read["step"]!, (long)read["big"]!, (long)read["negative"]!, (double)read["rate"]!));
        Assert.Equal(new object?[] { true, false, null }, Assert.IsType<List<object?>>(read["flags"]));
        Assert.Equal(new object?[] { 1L, 2L, 1L }, Assert.IsType<List<object?>>(read["structure"]));
        Assert.Empty(Assert.IsType<PickleTuple>(read["empty"]));
        Assert.Equal(new object?[] { 1L, 2L, 3L, 4L }, Assert.IsType<PickleTuple>(read["long_tuple"]));
        Assert.Throws<ArgumentException>(() => TorchCheckpointWriter.SaveObject(dir.File("bad.pt"), PickleDictionary.Of([new("x", new object())])));
        Assert.False(File.Exists(dir.File("bad.pt")));
    }

    [Fact]
    public void Unwraps_model_and_module_nesting()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("wrapped.pt");
        // {"model": {"module": OrderedDict(w=<tensor>)}, "step": 1}
        var pickle = new PickleBuilder().Proto(2).Op('}').Mark()
            .Str("model").Op('}').Str("module").Global("collections", "OrderedDict").Op(')').Reduce()
            .Str("w").Global("torch._utils", "_rebuild_tensor_v2").Mark()
            .Mark().Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Int1(2).Tuple().Op('Q')
            .Int1(0).Int1(2).Tuple1().Int1(1).Tuple1().Raw(0x89).Global("collections", "OrderedDict").Op(')').Reduce().Tuple().Reduce()
            .Op('s').Op('s')
            .Str("step").Int1(1).Op('u').Stop().ToArray();
        var data = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(data, 1.5f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4), -2f);
        PickleBuilder.WriteZip(path, pickle, ("0", data));

        var (name, value) = Assert.Single(TorchCheckpointReader.ReadStateDict(path));
        Assert.Equal("w", name);
        Assert.Equal([1.5f, -2f], TorchPickleFileGoldenTests.Floats(value));
    }
}
