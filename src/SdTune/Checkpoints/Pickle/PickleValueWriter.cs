using System.Buffers.Binary;
using System.Text;
using TorchSharp;

namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// Emits the protocol-2 pickle <c>torch.save</c> writes for a tree of Python values: <c>None</c>, <c>bool</c>,
/// <c>int</c>, <c>float</c>, <c>str</c>, lists, tuples (<see cref="PickleTuple"/>), dicts and
/// <c>collections.OrderedDict</c>s (<see cref="PickleDictionary"/>) and tensors, each tensor as
/// <c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, OrderedDict())</c> with its storage
/// as the persistent id <c>('storage', torch.XStorage, key, 'cpu', numel)</c>. The tensors met are collected in
/// <see cref="Tensors"/>, in the order of their storage keys.
/// </summary>
internal sealed class PickleValueWriter
{
    private const int BatchSize = 1000; // pickle's own SETITEMS/APPENDS batch size
    private const int MaxDepth = 64;
    private readonly MemoryStream _out = new();
    private readonly Dictionary<string, byte> _memoizedGlobals = [];
    private readonly List<torch.Tensor> _tensors = [];

    /// <summary>The tensors of the tree (contiguous CPU copies or views), storage key = position.</summary>
    public IReadOnlyList<torch.Tensor> Tensors => _tensors;

    /// <summary>The pickle of <paramref name="root"/>.</summary>
    /// <exception cref="ArgumentException">A value of a type Python has no counterpart for here, or nesting deeper than 64.</exception>
    public byte[] Write(object? root)
    {
        _out.Write([0x80, 2]);
        WriteValue(root, 0);
        Op(PickleOpcode.Stop);
        return _out.ToArray();
    }

    private void WriteValue(object? value, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ArgumentException($"Values nested deeper than {MaxDepth} levels cannot be pickled.");
        }

        switch (value)
        {
            case null:
                Op(PickleOpcode.None);
                break;
            case bool b:
                Op(b ? PickleOpcode.NewTrue : PickleOpcode.NewFalse);
                break;
            case int or long or short or byte or uint:
                WriteInt(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case double or float:
                WriteFloat(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case string s:
                WriteString(s);
                break;
            case torch.Tensor tensor:
                WriteTensor(tensor);
                break;
            case PickleTuple tuple:
                WriteTuple(tuple, depth);
                break;
            case PickleDictionary dict:
                WriteDict(dict, dict.IsOrderedDict, depth);
                break;
            case IReadOnlyList<object?> list:
                WriteList(list, depth);
                break;
            default:
                throw new ArgumentException($"A {value.GetType().Name} cannot be pickled (None, bool, int, float, str, list, tuple, dict and tensors can).");
        }
    }

    private void WriteDict(IEnumerable<KeyValuePair<object, object?>> entries, bool ordered, int depth)
    {
        if (ordered)
        {
            WriteGlobal("collections", "OrderedDict");
            Op(PickleOpcode.EmptyTuple);
            Op(PickleOpcode.Reduce);
        }
        else
        {
            Op(PickleOpcode.EmptyDict);
        }

        foreach (var batch in entries.Chunk(BatchSize))
        {
            Op(PickleOpcode.Mark);
            foreach (var (key, item) in batch)
            {
                WriteValue(key, depth + 1);
                WriteValue(item, depth + 1);
            }

            Op(PickleOpcode.SetItems);
        }
    }

    private void WriteList(IReadOnlyList<object?> list, int depth)
    {
        Op(PickleOpcode.EmptyList);
        foreach (var batch in list.Chunk(BatchSize))
        {
            Op(PickleOpcode.Mark);
            foreach (var item in batch)
            {
                WriteValue(item, depth + 1);
            }

            Op(PickleOpcode.Appends);
        }
    }

    private void WriteTuple(IReadOnlyList<object?> items, int depth)
    {
        if (items.Count == 0)
        {
            Op(PickleOpcode.EmptyTuple);
            return;
        }

        if (items.Count > 3)
        {
            Op(PickleOpcode.Mark);
        }

        foreach (var item in items)
        {
            WriteValue(item, depth + 1);
        }

        Op(items.Count switch
        {
            1 => PickleOpcode.Tuple1,
            2 => PickleOpcode.Tuple2,
            3 => PickleOpcode.Tuple3,
            _ => PickleOpcode.Tuple,
        });
    }

    private void WriteTensor(torch.Tensor tensor)
    {
        var data = tensor.detach().cpu().contiguous();
        var key = _tensors.Count;
        _tensors.Add(data);
        WriteGlobal("torch._utils", "_rebuild_tensor_v2");
        Op(PickleOpcode.Mark);
        Op(PickleOpcode.Mark);
        WriteString("storage");
        WriteGlobal("torch", TorchStorageType.FromDType(data.dtype).Name);
        WriteString(key.ToString(System.Globalization.CultureInfo.InvariantCulture));
        WriteString("cpu");
        WriteInt(data.numel());
        Op(PickleOpcode.Tuple);
        Op(PickleOpcode.BinPersId);
        WriteInt(0);
        WriteTuple([.. data.shape.Select(d => (object?)d)], 0);
        WriteTuple([.. ContiguousStrides(data.shape).Select(d => (object?)d)], 0);
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

    private void WriteFloat(double value)
    {
        Op(PickleOpcode.BinFloat);
        Span<byte> buffer = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(buffer, value);
        _out.Write(buffer);
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
