using System.IO.Compression;
using System.Text;
using SdTune.Checkpoints.Pickle;
using SdTune.IO;

namespace SdTune.Tests.Checkpoints.Pickle;

/// <summary>Corrupt, truncated and lying files: always a <see cref="CheckpointFormatException"/>, never a crash or hang.</summary>
public sealed class CorruptCheckpointTests
{
    // {"w": _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', numel), offset, size, stride, False, OrderedDict())}
    private static byte[] TensorPickle(long numel, int offset, int[] size, int[] stride)
    {
        var b = new PickleBuilder().Proto(2).Op('}').Str("w").Global("torch._utils", "_rebuild_tensor_v2").Mark()
            .Mark().Str("storage").Global("torch", "FloatStorage").Str("0").Str("cpu").Op('L').Raw(Encoding.ASCII.GetBytes(numel + "L\n")).Tuple().Op('Q')
            .Int(offset);
        b.Mark();
        foreach (var s in size)
        {
            b.Int(s);
        }

        b.Tuple().Mark();
        foreach (var s in stride)
        {
            b.Int(s);
        }

        return b.Tuple().Raw(0x89).Global("collections", "OrderedDict").Op(')').Reduce().Tuple().Reduce().Op('s').Stop().ToArray();
    }

    private static CheckpointFormatException LoadFails(string path)
    {
        var ex = Assert.Throws<CheckpointFormatException>(() => TorchPickleFile.Load(path));
        Assert.Equal(path, ex.Path);
        return ex;
    }

    [Theory]
    [InlineData(1000, 0, new[] { 1000 }, new[] { 1 }, "declares 1000")] // storage bigger than its entry
    [InlineData(4611686018427387904, 0, new[] { 1 }, new[] { 1 }, "declares")] // 2^62 elements: refused before allocating
    [InlineData(2, 0, new[] { 10 }, new[] { 1 }, "reaches element 9")] // view beyond the storage
    [InlineData(2, 1, new[] { 2 }, new[] { 1 }, "reaches element 2")]
    [InlineData(2, 0, new[] { 2, 2 }, new[] { 0, 1 }, "")] // broadcast view inside the storage: fine
    [InlineData(2, 0, new[] { -1 }, new[] { 1 }, "negative")]
    [InlineData(2, -1, new[] { 1 }, new[] { 1 }, "negative")]
    [InlineData(2, 0, new[] { int.MaxValue, int.MaxValue, int.MaxValue }, new[] { 1, 1, 1 }, "overflows 64 bits")]
    [InlineData(2, 0, new[] { 2 }, new[] { 1, 1 }, "1 sizes but 2 strides")]
    public void Tensor_metadata_is_checked_against_the_stored_bytes(long numel, int offset, int[] size, int[] stride, string expected)
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("t.pt");
        PickleBuilder.WriteZip(path, TensorPickle(numel, offset, size, stride), ("0", new byte[8]));
        if (expected.Length == 0)
        {
            var root = Assert.IsType<PickleDictionary>(TorchPickleFile.Load(path));
            Assert.Equal([2L, 2L], Assert.IsType<TorchSharp.torch.Tensor>(root["w"]).shape);
            return;
        }

        Assert.Contains(expected, LoadFails(path).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Container_problems_are_reported_clearly()
    {
        using var dir = TestPaths.NewTempDir();

        var text = dir.File("notes.ckpt");
        File.WriteAllText(text, "hello");
        Assert.Contains("not a PyTorch checkpoint", LoadFails(text).Message, StringComparison.Ordinal);

        var empty = dir.File("empty.ckpt");
        File.WriteAllBytes(empty, []);
        LoadFails(empty);

        var noPickle = dir.File("nopickle.ckpt");
        using (var zip = new ZipArchive(File.Create(noPickle), ZipArchiveMode.Create))
        {
            PickleBuilder.Add(zip, "archive/version", "3\n"u8.ToArray());
        }

        Assert.Contains("data.pkl", LoadFails(noPickle).Message, StringComparison.Ordinal);

        var missingStorage = dir.File("missing.ckpt");
        PickleBuilder.WriteZip(missingStorage, TensorPickle(2, 0, [2], [1]));
        Assert.Contains("has no entry 'archive/data/0'", LoadFails(missingStorage).Message, StringComparison.Ordinal);

        var bigEndian = dir.File("big.ckpt");
        using (var zip = new ZipArchive(File.Create(bigEndian), ZipArchiveMode.Create))
        {
            PickleBuilder.Add(zip, "archive/data.pkl", TensorPickle(2, 0, [2], [1]));
            PickleBuilder.Add(zip, "archive/byteorder", "big"u8.ToArray());
            PickleBuilder.Add(zip, "archive/data/0", new byte[8]);
        }

        Assert.Contains("'big' byte order", LoadFails(bigEndian).Message, StringComparison.Ordinal);

        var truncated = dir.File("truncated.ckpt");
        var bytes = File.ReadAllBytes(PickleFixtures.Path("basic.pt"));
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        LoadFails(truncated);

        var legacyTruncated = dir.File("legacy-truncated.pt");
        var legacy = File.ReadAllBytes(PickleFixtures.Path("legacy.pt"));
        File.WriteAllBytes(legacyTruncated, legacy[..^3]);
        Assert.Contains("left in the file", LoadFails(legacyTruncated).Message, StringComparison.Ordinal);
    }
}
