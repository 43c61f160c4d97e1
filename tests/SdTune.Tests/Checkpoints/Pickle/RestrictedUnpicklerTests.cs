using System.Numerics;
using SdTune.Checkpoints.Pickle;
using SdTune.IO;

namespace SdTune.Tests.Checkpoints.Pickle;

/// <summary>Hand-built pickles: opcode coverage, refused globals and malformed streams.</summary>
public sealed class RestrictedUnpicklerTests
{
    internal static object? Unpickle(byte[] pickle)
    {
        using var stream = new MemoryStream(pickle);
        return new RestrictedUnpickler(stream, "test.ckpt", "data.pkl", (id, error) => throw error("no storages here")).Load();
    }

    [Fact]
    public void Builds_containers_and_values_from_protocol_4_opcodes()
    {
        var p = new PickleBuilder().Proto(4)
            .Raw(0x95).Raw(PickleBuilder.U64(0)) // FRAME (length is not enforced)
            .Op('}').Raw(0x94) // EMPTY_DICT, MEMOIZE -> 0
            .Mark()
            .ShortStr("ints").Mark().Int1(7).Op('M').Raw(0x34, 0x12).Int(-2).Raw(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40).Raw(0x8a, 1, 0xff).Raw(0x8a, 0).Tuple()
            .ShortStr("float").Op('G').Raw(0x3f, 0xf8, 0, 0, 0, 0, 0, 0) // BINFLOAT big-endian 1.5
            .ShortStr("consts").Raw(0x88, 0x89).Op('N').Raw(0x87) // TRUE FALSE NONE TUPLE3
            .ShortStr("list").Op(']').BinPut(1).Mark().Int1(1).Int1(2).Op('e').Int1(3).Op('a')
            .ShortStr("bytes").Op('C').Raw(2, 0xde, 0xad).Op('B').Raw(PickleBuilder.U32(1)).Raw(0x01).Tuple2()
            .ShortStr("str8").Raw(0x8d).Raw(PickleBuilder.U64(2)).Raw((byte)'h', (byte)'i')
            .ShortStr("same list").Op('j').Raw(PickleBuilder.U32(1)) // LONG_BINGET 1
            .ShortStr("set").Raw(0x8f).Mark().Int1(1).Int1(1).Int1(2).Raw(0x90)
            .ShortStr("frozen").Mark().ShortStr("a").Raw(0x91)
            .ShortStr("latin1").ShortStr("_codecs").ShortStr("encode").Raw(0x93).ShortStr("\u00ff\u0001").ShortStr("latin1").Tuple2().Reduce()
            .ShortStr("size").Global("torch", "Size").Mark().Int1(2).Int1(3).Op('l').Tuple1().Reduce()
            .ShortStr("ordered").Global("collections", "OrderedDict").Op(')').Reduce().ShortStr("k").Int1(1).Op('s')
            .ShortStr("dup").Int1(9).Op('2').Tuple2()
            .ShortStr("popped").Int1(5).Int1(6).Op('0')
            .Op('u')
            .Stop().ToArray();

        var root = Assert.IsType<PickleDictionary>(Unpickle(p));
        Assert.Equal(["ints", "float", "consts", "list", "bytes", "str8", "same list", "set", "frozen", "latin1", "size", "ordered", "dup", "popped"], root.Keys.Cast<string>());
        Assert.Equal(new PickleTuple([7L, 0x1234L, -2L, BigInteger.Pow(2, 70), -1L, 0L]), root["ints"]);
        Assert.Equal(1.5, root["float"]);
        Assert.Equal(new PickleTuple([true, false, null]), root["consts"]);
        var list = Assert.IsType<List<object?>>(root["list"]);
        Assert.Equal(new object?[] { 1L, 2L, 3L }, list);
        var bytes = Assert.IsType<PickleTuple>(root["bytes"]);
        Assert.Equal(new byte[] { 0xde, 0xad }, bytes[0]);
        Assert.Equal(new byte[] { 0x01 }, bytes[1]);
        Assert.Same(list, root["same list"]);
        Assert.Equal("hi", root["str8"]);
        var set = Assert.IsType<PickleSet>(root["set"]);
        Assert.Equal(new object?[] { 1L, 2L }, set);
        Assert.True(Assert.IsType<PickleSet>(root["frozen"]).IsFrozen);
        Assert.Equal(new byte[] { 0xff, 0x01 }, root["latin1"]);
        Assert.Equal(new PickleTuple([2L, 3L]), root["size"]);
        var ordered = Assert.IsType<PickleDictionary>(root["ordered"]);
        Assert.True(ordered.IsOrderedDict);
        Assert.Equal(1L, ordered["k"]);
        Assert.Equal(new PickleTuple([9L, 9L]), root["dup"]);
        Assert.Equal(5L, root["popped"]);
    }

    [Fact]
    public void Reads_protocol_0_text_opcodes()
    {
        var p = new PickleBuilder().Op('(').Op('d').Op('p').Raw("0\n"u8.ToArray())
            .Op('I').Raw("42\n"u8.ToArray()).Op('L').Raw("-123456789012345678901234L\n"u8.ToArray()).Op('s')
            .Op('g').Raw("0\n"u8.ToArray()).Op('I').Raw("01\n"u8.ToArray()).Op('F').Raw("2.25\n"u8.ToArray()).Op('s')
            .Op('.').ToArray();
        var root = Assert.IsType<PickleDictionary>(Unpickle(p));
        Assert.Equal(BigInteger.Parse("-123456789012345678901234", System.Globalization.CultureInfo.InvariantCulture), root[42L]);
        Assert.Equal(2.25, root[true]);
    }

    [Theory]
    [InlineData("os", "system")]
    [InlineData("posix", "system")]
    [InlineData("builtins", "eval")]
    [InlineData("builtins", "exec")]
    [InlineData("builtins", "getattr")]
    [InlineData("subprocess", "Popen")]
    [InlineData("torch", "load")]
    [InlineData("torch._utils", "_rebuild_device_tensor_from_numpy")]
    public void Refuses_every_global_outside_the_allow_list_and_names_it(string module, string name)
    {
        using var dir = TestPaths.NewTempDir();
        var marker = dir.File("pwned");
        var path = dir.File("evil.ckpt");
        var pickle = new PickleBuilder().Proto(2).Global(module, name).Str("touch " + marker).Tuple1().Reduce().Stop().ToArray();
        PickleBuilder.WriteZip(path, pickle);

        var ex = Assert.Throws<CheckpointFormatException>(() => TorchPickleFile.Load(path));
        Assert.Contains($"'{module}.{name}'", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith(path + ": ", ex.Message, StringComparison.Ordinal);
        Assert.Equal(path, ex.Path);
        Assert.False(File.Exists(marker));
        Assert.Throws<CheckpointFormatException>(() => TorchCheckpointReader.ReadStateDict(path));
    }

    [Fact]
    public void Refuses_os_system_through_stack_global_inst_and_a_bare_legacy_pickle()
    {
        using var dir = TestPaths.NewTempDir();
        var marker = dir.File("pwned");
        var stackGlobal = new PickleBuilder().Proto(4).ShortStr("os").ShortStr("system").Raw(0x93).ShortStr("touch " + marker).Tuple1().Reduce().Stop().ToArray();
        var inst = new PickleBuilder().Mark().Str("touch " + marker).Op('i').Raw("os\nsystem\n"u8.ToArray()).Stop().ToArray();
        var subprocess = new PickleBuilder().Proto(2).Global("subprocess", "Popen").Mark().Str("touch").Str(marker).Op('l').Tuple1().Reduce().Stop().ToArray();

        Assert.Contains("'os.system'", Assert.Throws<CheckpointFormatException>(() => Unpickle(stackGlobal)).Message, StringComparison.Ordinal);
        Assert.Throws<CheckpointFormatException>(() => Unpickle(inst));

        // A raw pickle file (no zip) is taken for the legacy format and refused just the same.
        var raw = dir.File("evil.pt");
        File.WriteAllBytes(raw, subprocess);
        Assert.Contains("'subprocess.Popen'", Assert.Throws<CheckpointFormatException>(() => TorchPickleFile.Load(raw)).Message, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 2, 0x7d }, "truncated")] // no STOP
    [InlineData(new byte[] { 0x80, 2, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x2e }, "truncated")] // BINUNICODE claims 2 GB
    [InlineData(new byte[] { 0x80, 2, 0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x2e }, "truncated")] // BINBYTES8 claims 2^63
    [InlineData(new byte[] { 0x80, 2, 0xff, 0x2e }, "unknown opcode 0xff")]
    [InlineData(new byte[] { 0x80, 9, 0x4e, 0x2e }, "unsupported pickle protocol 9")]
    [InlineData(new byte[] { 0x80, 2, 0x68, 0x05, 0x2e }, "memo entry 5")]
    [InlineData(new byte[] { 0x80, 2, 0x2e }, "stack underflow")]
    [InlineData(new byte[] { 0x80, 2, 0x4b, 0x01, 0x4b, 0x02, 0x61, 0x2e }, "APPEND applied to a Int64")]
    [InlineData(new byte[] { 0x80, 2, 0x74, 0x2e }, "no MARK")]
    [InlineData(new byte[] { 0x80, 2, 0x58, 0x02, 0, 0, 0, 0xc3, 0x28, 0x2e }, "UTF-8")]
    [InlineData(new byte[] { 0x80, 2, 0x7d, 0x5d, 0x4b, 0x01, 0x73, 0x2e }, "unhashable list")]
    [InlineData(new byte[] { 0x80, 2, 0x82, 0x01, 0x2e }, "EXT1")]
    [InlineData(new byte[] { 0x80, 5, 0x97, 0x2e }, "out-of-band")]
    public void Malformed_pickles_fail_with_a_checkpoint_format_exception(byte[] pickle, string expected)
    {
        var ex = Assert.Throws<CheckpointFormatException>(() => Unpickle(pickle));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("test.ckpt: data.pkl at byte ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deeply_nested_tuples_do_not_exhaust_the_stack()
    {
        var builder = new PickleBuilder().Proto(2).Op('}').Op('N');
        for (var i = 0; i < 200_000; i++)
        {
            builder.Tuple1();
        }

        var root = Assert.IsType<PickleDictionary>(Unpickle(builder.Op('N').Op('s').Stop().ToArray()));
        Assert.Single(root);
    }
}
