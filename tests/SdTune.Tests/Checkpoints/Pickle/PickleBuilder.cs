using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace SdTune.Tests.Checkpoints.Pickle;

/// <summary>Builds pickle byte streams opcode by opcode (the opcode values are those of Python's pickle format).</summary>
internal sealed class PickleBuilder
{
    private readonly MemoryStream _bytes = new();

    public PickleBuilder Raw(params byte[] bytes)
    {
        _bytes.Write(bytes);
        return this;
    }

    public PickleBuilder Op(char opcode) => Raw((byte)opcode);

    public PickleBuilder Proto(byte version) => Raw(0x80, version);

    public PickleBuilder Global(string module, string name) => Op('c').Raw(Encoding.ASCII.GetBytes(module + "\n" + name + "\n"));

    public PickleBuilder Str(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        return Op('X').Raw(U32(utf8.Length)).Raw(utf8);
    }

    public PickleBuilder ShortStr(string value)
    {
        var utf8 = Encoding.UTF8.GetBytes(value);
        return Raw(0x8c, (byte)utf8.Length).Raw(utf8);
    }

    public PickleBuilder Int1(byte value) => Op('K').Raw(value);

    public PickleBuilder Int(int value) => Op('J').Raw(U32(value));

    public PickleBuilder Mark() => Op('(');

    public PickleBuilder Tuple() => Op('t');

    public PickleBuilder Tuple1() => Raw(0x85);

    public PickleBuilder Tuple2() => Raw(0x86);

    public PickleBuilder Reduce() => Op('R');

    public PickleBuilder BinPut(byte index) => Op('q').Raw(index);

    public PickleBuilder BinGet(byte index) => Op('h').Raw(index);

    public PickleBuilder Stop() => Op('.');

    public byte[] ToArray() => _bytes.ToArray();

    public static byte[] U32(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return bytes;
    }

    public static byte[] U64(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        return bytes;
    }

    /// <summary>Writes a torch-style zip: archive/data.pkl plus archive/data/&lt;key&gt; entries, all stored.</summary>
    public static void WriteZip(string path, byte[] pickle, params (string Key, byte[] Data)[] storages)
    {
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        Add(zip, "archive/data.pkl", pickle);
        foreach (var (key, data) in storages)
        {
            Add(zip, "archive/data/" + key, data);
        }

        Add(zip, "archive/version", Encoding.ASCII.GetBytes("3\n"));
    }

    public static void Add(ZipArchive zip, string name, byte[] data)
    {
        using var stream = zip.CreateEntry(name, CompressionLevel.NoCompression).Open();
        stream.Write(data);
    }
}
