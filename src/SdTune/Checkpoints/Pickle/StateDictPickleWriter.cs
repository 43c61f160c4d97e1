using System.Buffers.Binary;
using System.Text;

namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// Emits the protocol-2 pickle <c>torch.save</c> writes for a state dict: an <c>OrderedDict</c> of
/// <c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, OrderedDict())</c>
/// with storages as persistent ids <c>('storage', torch.XStorage, key, 'cpu', numel)</c>.
/// </summary>
internal sealed class StateDictPickleWriter
{
    private const int BatchSize = 1000; // pickle's own SETITEMS batch size

    private readonly MemoryStream _out = new();
    private readonly Dictionary<string, byte> _memoizedGlobals = [];

    /// <summary>One tensor of the state dict as the pickle describes it.</summary>
    public sealed record Entry(string Name, string StorageKey, TorchStorageType StorageType, long ElementCount, long[] Shape);

    /// <summary>The pickle of the state dict, or of <c>{wrapperKey: state dict}</c> when a wrapper key is given.</summary>
    public byte[] Write(IReadOnlyList<Entry> entries, string? wrapperKey = null)
    {
        _out.Write([0x80, 2]);
        if (wrapperKey is not null)
        {
            Op(PickleOpcode.EmptyDict);
            WriteString(wrapperKey);
        }

        WriteGlobal("collections", "OrderedDict");
        Op(PickleOpcode.EmptyTuple);
        Op(PickleOpcode.Reduce);
        for (var start = 0; start < entries.Count; start += BatchSize)
        {
            Op(PickleOpcode.Mark);
            foreach (var entry in entries.Skip(start).Take(BatchSize))
            {
                WriteString(entry.Name);
                WriteTensor(entry);
            }

            Op(PickleOpcode.SetItems);
        }

        if (wrapperKey is not null)
        {
            Op(PickleOpcode.SetItem);
        }

        Op(PickleOpcode.Stop);
        return _out.ToArray();
    }

    private void WriteTensor(Entry entry)
    {
        WriteGlobal("torch._utils", "_rebuild_tensor_v2");
        Op(PickleOpcode.Mark);

        Op(PickleOpcode.Mark);
        WriteString("storage");
        WriteGlobal("torch", entry.StorageType.Name);
        WriteString(entry.StorageKey);
        WriteString("cpu");
        WriteInt(entry.ElementCount);
        Op(PickleOpcode.Tuple);
        Op(PickleOpcode.BinPersId);

        WriteInt(0);
        WriteIntTuple(entry.Shape);
        WriteIntTuple(ContiguousStrides(entry.Shape));
        Op(PickleOpcode.NewFalse);
        WriteGlobal("collections", "OrderedDict");
        Op(PickleOpcode.EmptyTuple);
        Op(PickleOpcode.Reduce);
        Op(PickleOpcode.Tuple);
        Op(PickleOpcode.Reduce);
    }

    private static long[] ContiguousStrides(long[] shape)
    {
        var strides = new long[shape.Length];
        long stride = 1;
        for (var i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = stride;
            stride *= Math.Max(shape[i], 1);
        }

        return strides;
    }

    private void WriteIntTuple(long[] values)
    {
        if (values.Length is 0 or > 3)
        {
            if (values.Length == 0)
            {
                Op(PickleOpcode.EmptyTuple);
                return;
            }

            Op(PickleOpcode.Mark);
        }

        foreach (var value in values)
        {
            WriteInt(value);
        }

        Op(values.Length switch
        {
            1 => PickleOpcode.Tuple1,
            2 => PickleOpcode.Tuple2,
            3 => PickleOpcode.Tuple3,
            _ => PickleOpcode.Tuple,
        });
    }

    private void WriteGlobal(string module, string name)
    {
        var key = module + "\n" + name + "\n";
        if (_memoizedGlobals.TryGetValue(key, out var index))
        {
            Op(PickleOpcode.BinGet);
            _out.WriteByte(index);
            return;
        }

        Op(PickleOpcode.Global);
        _out.Write(Encoding.ASCII.GetBytes(key));
        if (_memoizedGlobals.Count < 256)
        {
            index = (byte)_memoizedGlobals.Count;
            _memoizedGlobals.Add(key, index);
            Op(PickleOpcode.BinPut);
            _out.WriteByte(index);
        }
    }

    private void WriteString(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Op(PickleOpcode.BinUnicode);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)bytes.Length);
        _out.Write(length);
        _out.Write(bytes);
    }

    private void WriteInt(long value)
    {
        Span<byte> buffer = stackalloc byte[9];
        if (value is >= 0 and <= byte.MaxValue)
        {
            Op(PickleOpcode.BinInt1);
            _out.WriteByte((byte)value);
        }
        else if (value is >= 0 and <= ushort.MaxValue)
        {
            Op(PickleOpcode.BinInt2);
            BinaryPrimitives.WriteUInt16LittleEndian(buffer, (ushort)value);
            _out.Write(buffer[..2]);
        }
        else if (value is >= int.MinValue and <= int.MaxValue)
        {
            Op(PickleOpcode.BinInt);
            BinaryPrimitives.WriteInt32LittleEndian(buffer, (int)value);
            _out.Write(buffer[..4]);
        }
        else
        {
            // LONG1: minimal little-endian two's complement (8 bytes always suffice beyond the int32 range).
            Op(PickleOpcode.Long1);
            var bytes = new System.Numerics.BigInteger(value).ToByteArray();
            _out.WriteByte((byte)bytes.Length);
            _out.Write(bytes);
        }
    }

    private void Op(PickleOpcode opcode) => _out.WriteByte((byte)opcode);
}
