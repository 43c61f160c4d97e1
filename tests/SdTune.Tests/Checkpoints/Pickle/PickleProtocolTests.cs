using System.Numerics;
using System.Text;
using SdTune.Checkpoints.Pickle;
using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Pickle;

/// <summary>
/// Pickles of every protocol, written by Python's own pickler (tests/fixtures/pickle/protocols/generate.py): each is
/// recognised as a pickle by its content, read, and — when it names a global outside the allow-list — refused with
/// that global's name, whatever the protocol (protocol 0 is text and has no signature).
/// </summary>
public sealed class PickleProtocolTests
{
    public static TheoryData<int> Protocols => [0, 1, 2, 3, 4, 5];

    [Theory]
    [MemberData(nameof(Protocols))]
    public void Legacy_checkpoints_of_every_protocol_load_with_their_values(int protocol)
    {
        using var scope = NewDisposeScope();
        var root = Assert.IsType<PickleDictionary>(TorchPickleFile.Load(PickleFixtures.Protocol($"state_p{protocol}.pt")));
        Assert.Equal("café ✓ back\\slash\nnew line 'single' \"double\"\ttab \U0001F600", root["text"]);
        Assert.Equal("plain", root["ascii"]);
        Assert.Equal(7L, root["int"]);
        Assert.Equal(-5L, root["negative"]);
        Assert.Equal(1L << 40, root["big"]);
        Assert.Equal(BigInteger.Pow(2, 70), root["huge"]);
        Assert.Equal(0.1, root["float"]);
        Assert.Equal(new object?[] { true, false, null }, Assert.IsType<List<object?>>(root["flags"]));
        Assert.Equal(new PickleTuple([1L, "two", 3.5]), root["tuple"]);
        var inner = Assert.IsType<List<object?>>(Assert.IsType<PickleDictionary>(root["nested"])["inner"]);
        Assert.Equal("x", Assert.IsType<PickleDictionary>(inner[1])["deep"]);
        Assert.Equal(new byte[] { 0, 1, 0xff }, root["blob"]);
        if (protocol == 0)
        {
            return; // protocol 0 cannot carry torch's storage ids: no tensors
        }

        var state = Assert.IsType<PickleDictionary>(root["state_dict"]);
        var w = Assert.IsType<Tensor>(state["w"]);
        Assert.Equal([2L, 3L], w.shape);
        Assert.Equal([-1f, -0.5f, 0f, 0.5f, 1f, 1.5f], w.flatten().data<float>().ToArray());
        var h = Assert.IsType<Tensor>(state["h"]);
        Assert.Equal(ScalarType.Float16, h.dtype);
        Assert.Equal([0.25f, -2f], h.to(ScalarType.Float32).data<float>().ToArray());
    }

    [Theory]
    [MemberData(nameof(Protocols))]
    public void A_pickle_that_runs_os_system_is_refused_by_name_whatever_its_protocol(int protocol)
    {
        var path = PickleFixtures.Protocol($"evil_p{protocol}.pt");
        var error = Assert.Throws<CheckpointFormatException>(() => TorchPickleFile.Load(path));
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains("'posix.system'", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists("pwned-by-pickle"));
    }

    [Theory]
    [InlineData(0, "'copy_reg._reconstructor'")]
    [InlineData(1, "'copy_reg._reconstructor'")]
    [InlineData(2, "'__main__.Plain'")]
    [InlineData(5, "'__main__.Plain'")]
    public void A_pickled_class_instance_is_refused_naming_the_class_or_its_reconstructor(int protocol, string global)
    {
        var error = Assert.Throws<CheckpointFormatException>(() => TorchPickleFile.Load(PickleFixtures.Protocol($"instance_p{protocol}.pt")));
        Assert.Contains(global, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Protocol_0_string_literals_decode_python_escapes()
    {
        // What Python 2 wrote for str values: STRING with a quoted, backslash-escaped literal (here UTF-8 bytes).
        var pickle = new PickleBuilder().Mark()
            .Op('S').Raw(Encoding.ASCII.GetBytes("'caf\\xc3\\xa9 \\'q\\' \\\"d\\\" \\\\ \\t\\n\\101\\0 \\z'\n"))
            .Op('S').Raw(Encoding.ASCII.GetBytes("\"it's\"\n"))
            .Op('V').Raw(Encoding.Latin1.GetBytes("caf\u00e9 \\u2713 \\U0001f600 \\\\u0041 \\x\n"))
            .Op('l').Stop().ToArray();
        var list = Assert.IsType<List<object?>>(RestrictedUnpicklerTests.Unpickle(pickle));
        Assert.Equal("café 'q' \"d\" \\ \t\nA\0 \\z", list[0]);
        Assert.Equal("it's", list[1]);
        Assert.Equal("café ✓ \U0001F600 \\\\u0041 \\x", list[2]);
    }

    [Theory]
    [InlineData("S", "unquoted\n", "must be quoted")]
    [InlineData("S", "'mismatched\"\n", "must be quoted")]
    [InlineData("S", "'bad \\x4'\n", "invalid \\x escape")]
    [InlineData("S", "'trailing \\'\n", "lone backslash")]
    [InlineData("V", "lone \\ud800 surrogate\n", "\\ud800, a UTF-16 surrogate")]
    [InlineData("V", "pair \\ud83d\\ude00\n", "\\ud83d, a UTF-16 surrogate")]
    [InlineData("V", "short \\u12\n", "malformed")]
    [InlineData("V", "beyond \\U00110000\n", "malformed")]
    public void Malformed_protocol_0_strings_are_refused(string opcode, string argument, string expected)
    {
        var pickle = new PickleBuilder().Op(opcode[0]).Raw(Encoding.Latin1.GetBytes(argument)).Stop().ToArray();
        var error = Assert.Throws<CheckpointFormatException>(() => RestrictedUnpicklerTests.Unpickle(pickle));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inst_and_obj_name_the_global_they_would_instantiate()
    {
        var inst = new PickleBuilder().Mark().Op('V').Raw("touch x\n"u8.ToArray()).Op('i').Raw("os\nsystem\n"u8.ToArray()).Stop().ToArray();
        Assert.Contains("'os.system'", Assert.Throws<CheckpointFormatException>(() => RestrictedUnpicklerTests.Unpickle(inst)).Message, StringComparison.Ordinal);

        // Allowed classes are built as data: INST and OBJ of collections.OrderedDict give an empty ordered dict.
        var ordered = new PickleBuilder().Mark().Op('i').Raw("collections\nOrderedDict\n"u8.ToArray())
            .Mark().Global("collections", "OrderedDict").Op('o').Tuple2().Stop().ToArray();
        var pair = Assert.IsType<PickleTuple>(RestrictedUnpicklerTests.Unpickle(ordered));
        Assert.All(pair, item => Assert.True(Assert.IsType<PickleDictionary>(item).IsOrderedDict));
    }
}
