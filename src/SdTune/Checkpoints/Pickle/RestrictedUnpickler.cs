using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using SdTune.IO;

namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// A pickle virtual machine (protocols 0–5) that only builds data: containers, strings, numbers, bytes, lazy
/// tensors and placeholders. Globals outside <see cref="PickleGlobalPolicy"/> are refused; no Python callable
/// exists here, so nothing a file says can be executed. Every length is checked against the bytes left before
/// anything is allocated.
/// </summary>
internal sealed class RestrictedUnpickler
{
    private const int MaxLineLength = 4096;
    private const int MaxIntegerBytes = 1 << 16;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly Stream _stream;
    private readonly string _path;
    private readonly string _source;
    private readonly Func<PickleTuple, Func<string, Exception>, object> _persistentLoad;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];
    private long _opcodePosition;

    /// <param name="stream">The pickle bytes, positioned at its first opcode; must be seekable.</param>
    /// <param name="path">The checkpoint file, for error messages.</param>
    /// <param name="source">Which pickle inside the file (e.g. <c>archive/data.pkl</c>), for error messages.</param>
    /// <param name="persistentLoad">Turns a persistent id into a storage (or throws the error it is given).</param>
    public RestrictedUnpickler(Stream stream, string path, string source, Func<PickleTuple, Func<string, Exception>, object> persistentLoad)
    {
        _stream = stream;
        _path = path;
        _source = source;
        _persistentLoad = persistentLoad;
    }

    /// <summary>Runs one pickle up to its STOP opcode and returns the object it built.</summary>
    public object? Load()
    {
        try
        {
            return Run();
        }
        catch (DecoderFallbackException)
        {
            throw Error("a string is not valid UTF-8");
        }
        catch (FormatException ex)
        {
            throw Error("a text number is malformed: " + ex.Message);
        }
        catch (OverflowException)
        {
            throw Error("a number does not fit 64 bits");
        }
    }

    private object? Run()
    {
        while (true)
        {
            _opcodePosition = _stream.Position;
            var code = _stream.ReadByte();
            if (code < 0)
            {
                throw Error("truncated: the pickle ends before its STOP opcode");
            }

            switch ((PickleOpcode)code)
            {
                case PickleOpcode.Proto:
                    var protocol = ReadUInt8();
                    if (protocol > 5)
                    {
                        throw Error($"unsupported pickle protocol {protocol}");
                    }

                    break;
                case PickleOpcode.Frame:
                    var frameLength = ReadInt64();
                    if (frameLength < 0 || frameLength > Remaining)
                    {
                        throw Error($"truncated: frame of {frameLength} bytes but {Remaining} left");
                    }

                    break;
                case PickleOpcode.Stop:
                    return Pop();

                case PickleOpcode.Mark:
                    _marks.Add(_stack.Count);
                    break;
                case PickleOpcode.Pop:
                    if (_stack.Count > 0 && (_marks.Count == 0 || _marks[^1] < _stack.Count))
                    {
                        _stack.RemoveAt(_stack.Count - 1);
                    }
                    else
                    {
                        PopMark();
                    }

                    break;
                case PickleOpcode.PopMark:
                    PopMark();
                    break;
                case PickleOpcode.Dup:
                    Push(Peek());
                    break;

                case PickleOpcode.None:
                    Push(null);
                    break;
                case PickleOpcode.NewTrue:
                    Push(true);
                    break;
                case PickleOpcode.NewFalse:
                    Push(false);
                    break;
                case PickleOpcode.BinInt:
                    Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadExact(4)));
                    break;
                case PickleOpcode.BinInt1:
                    Push((long)ReadUInt8());
                    break;
                case PickleOpcode.BinInt2:
                    Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadExact(2)));
                    break;
                case PickleOpcode.Long1:
                    Push(DecodeLong(ReadExact(ReadUInt8())));
                    break;
                case PickleOpcode.Long4:
                    var longLength = BinaryPrimitives.ReadInt32LittleEndian(ReadExact(4));
                    if (longLength < 0 || longLength > MaxIntegerBytes)
                    {
                        throw Error($"LONG4 length {longLength} is out of range");
                    }

                    Push(DecodeLong(ReadBytes(longLength)));
                    break;
                case PickleOpcode.Int:
                    var intText = ReadLine();
                    Push(intText switch
                    {
                        "00" => false,
                        "01" => true,
                        _ => ParseInteger(intText),
                    });
                    break;
                case PickleOpcode.Long:
                    Push(ParseInteger(ReadLine().TrimEnd('L')));
                    break;
                case PickleOpcode.BinFloat:
                    Push(BinaryPrimitives.ReadDoubleBigEndian(ReadExact(8)));
                    break;
                case PickleOpcode.Float:
                    Push(double.Parse(ReadLine(), NumberStyles.Float, CultureInfo.InvariantCulture));
                    break;

                case PickleOpcode.BinUnicode:
                    Push(StrictUtf8.GetString(ReadBytes(ReadUInt32())));
                    break;
                case PickleOpcode.ShortBinUnicode:
                    Push(StrictUtf8.GetString(ReadBytes(ReadUInt8())));
                    break;
                case PickleOpcode.BinUnicode8:
                    Push(StrictUtf8.GetString(ReadBytes(ReadInt64())));
                    break;
                case PickleOpcode.BinString:
                    Push(StrictUtf8.GetString(ReadBytes(BinaryPrimitives.ReadInt32LittleEndian(ReadExact(4)))));
                    break;
                case PickleOpcode.ShortBinString:
                    Push(StrictUtf8.GetString(ReadBytes(ReadUInt8())));
                    break;
                case PickleOpcode.BinBytes:
                    Push(ReadBytes(ReadUInt32()));
                    break;
                case PickleOpcode.ShortBinBytes:
                    Push(ReadBytes(ReadUInt8()));
                    break;
                case PickleOpcode.BinBytes8:
                case PickleOpcode.ByteArray8:
                    Push(ReadBytes(ReadInt64()));
                    break;

                case PickleOpcode.EmptyTuple:
                    Push(PickleTuple.Empty);
                    break;
                case PickleOpcode.Tuple1:
                    Push(new PickleTuple([Pop()]));
                    break;
                case PickleOpcode.Tuple2:
                    var second = Pop();
                    Push(new PickleTuple([Pop(), second]));
                    break;
                case PickleOpcode.Tuple3:
                    var third = Pop();
                    var middle = Pop();
                    Push(new PickleTuple([Pop(), middle, third]));
                    break;
                case PickleOpcode.Tuple:
                    Push(new PickleTuple(PopMark()));
                    break;
                case PickleOpcode.EmptyList:
                    Push(new List<object?>());
                    break;
                case PickleOpcode.List:
                    Push(new List<object?>(PopMark()));
                    break;
                case PickleOpcode.Append:
                    var appended = Pop();
                    PeekAs<List<object?>>("APPEND").Add(appended);
                    break;
                case PickleOpcode.Appends:
                    var appendItems = PopMark();
                    PeekAs<List<object?>>("APPENDS").AddRange(appendItems);
                    break;
                case PickleOpcode.EmptyDict:
                    Push(new PickleDictionary(isOrderedDict: false));
                    break;
                case PickleOpcode.Dict:
                    var dictItems = PopMark();
                    var dict = new PickleDictionary(isOrderedDict: false);
                    SetItems(dict, dictItems);
                    Push(dict);
                    break;
                case PickleOpcode.SetItem:
                    var itemValue = Pop();
                    var itemKey = Pop();
                    SetItems(PeekAs<PickleDictionary>("SETITEM"), [itemKey, itemValue]);
                    break;
                case PickleOpcode.SetItems:
                    var items = PopMark();
                    SetItems(PeekAs<PickleDictionary>("SETITEMS"), items);
                    break;
                case PickleOpcode.EmptySet:
                    Push(new PickleSet(isFrozen: false));
                    break;
                case PickleOpcode.AddItems:
                    var setItems = PopMark();
                    AddAll(PeekAs<PickleSet>("ADDITEMS"), setItems);
                    break;
                case PickleOpcode.FrozenSet:
                    var frozen = new PickleSet(isFrozen: true);
                    AddAll(frozen, PopMark());
                    Push(frozen);
                    break;

                case PickleOpcode.BinPut:
                    _memo[ReadUInt8()] = Peek();
                    break;
                case PickleOpcode.LongBinPut:
                    _memo[ReadUInt32()] = Peek();
                    break;
                case PickleOpcode.Memoize:
                    _memo[_memo.Count] = Peek();
                    break;
                case PickleOpcode.Put:
                    _memo[ParseMemoIndex(ReadLine())] = Peek();
                    break;
                case PickleOpcode.BinGet:
                    Push(GetMemo(ReadUInt8()));
                    break;
                case PickleOpcode.LongBinGet:
                    Push(GetMemo(ReadUInt32()));
                    break;
                case PickleOpcode.Get:
                    Push(GetMemo(ParseMemoIndex(ReadLine())));
                    break;

                case PickleOpcode.Global:
                    var module = ReadLine();
                    Push(ResolveGlobal(module, ReadLine()));
                    break;
                case PickleOpcode.StackGlobal:
                    var globalName = PopAs<string>("STACK_GLOBAL name");
                    Push(ResolveGlobal(PopAs<string>("STACK_GLOBAL module"), globalName));
                    break;
                case PickleOpcode.Reduce:
                    var arguments = PopAs<PickleTuple>("REDUCE arguments");
                    Push(Call(Pop(), arguments));
                    break;
                case PickleOpcode.NewObj:
                    var newArguments = PopAs<PickleTuple>("NEWOBJ arguments");
                    Push(Construct(Pop(), newArguments));
                    break;
                case PickleOpcode.NewObjEx:
                    Pop(); // keyword arguments: no allowed class takes any that matter
                    var exArguments = PopAs<PickleTuple>("NEWOBJ_EX arguments");
                    Push(Construct(Pop(), exArguments));
                    break;
                case PickleOpcode.Build:
                    var state = Pop();
                    Build(Peek(), state);
                    break;
                case PickleOpcode.BinPersId:
                    var persistentId = PopAs<PickleTuple>("persistent id");
                    Push(_persistentLoad(persistentId, Error));
                    break;

                case PickleOpcode.Inst:
                    var instModule = ReadLine();
                    var instClass = ResolveGlobal(instModule, ReadLine());
                    Push(Construct(instClass, new PickleTuple(PopMark())));
                    break;
                case PickleOpcode.Obj:
                    var objItems = PopMark();
                    Push(objItems.Length > 0 ? Construct(objItems[0], new PickleTuple(objItems[1..])) : throw Error("OBJ without a class"));
                    break;
                case PickleOpcode.String:
                    Push(StrictUtf8.GetString(PickleTextLiterals.DecodeQuoted(ReadLineBytes(long.MaxValue), Error)));
                    break;
                case PickleOpcode.Unicode:
                    Push(PickleTextLiterals.DecodeRawUnicodeEscape(ReadLineBytes(long.MaxValue), Error));
                    break;

                case PickleOpcode.PersId:
                    throw Error("text persistent ids (PERSID) are not used by torch checkpoints and are refused");
                case PickleOpcode.Ext1:
                case PickleOpcode.Ext2:
                case PickleOpcode.Ext4:
                    throw Error("extension-registry globals (EXT1/2/4) are refused");
                case PickleOpcode.NextBuffer:
                case PickleOpcode.ReadOnlyBuffer:
                    throw Error("out-of-band buffers (protocol 5) are not supported");
                default:
                    throw Error($"unknown opcode 0x{code:x2}");
            }
        }
    }

    private long Remaining => _stream.Length - _stream.Position;

    private CheckpointFormatException Error(string message) => new(_path, $"{_source} at byte {_opcodePosition}: {message}");

    private void Push(object? value) => _stack.Add(value);

    private object? Peek()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks[^1] == _stack.Count))
        {
            throw Error("stack underflow");
        }

        return _stack[^1];
    }

    private object? Pop()
    {
        var value = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private T PopAs<T>(string what) => Pop() is T value ? value : throw Error($"{what} has the wrong type");

    private T PeekAs<T>(string what) => Peek() is T value ? value : throw Error($"{what} applied to a {Describe(Peek())}");

    private object?[] PopMark()
    {
        if (_marks.Count == 0)
        {
            throw Error("no MARK on the stack");
        }

        var mark = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(mark, _stack.Count - mark).ToArray();
        _stack.RemoveRange(mark, _stack.Count - mark);
        return items;
    }

    private object? GetMemo(long index) => _memo.TryGetValue(index, out var value) ? value : throw Error($"memo entry {index} was never stored");

    private byte ReadUInt8()
    {
        var value = _stream.ReadByte();
        return value < 0 ? throw Error("truncated inside an opcode argument") : (byte)value;
    }

    private uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(ReadExact(4));

    private long ReadInt64() => BinaryPrimitives.ReadInt64LittleEndian(ReadExact(8));

    private byte[] ReadExact(int count)
    {
        var buffer = new byte[count];
        if (_stream.ReadAtLeast(buffer, count, throwOnEndOfStream: false) != count)
        {
            throw Error("truncated inside an opcode argument");
        }

        return buffer;
    }

    private byte[] ReadBytes(long count)
    {
        if (count < 0 || count > Remaining)
        {
            throw Error($"truncated: a {count}-byte string or bytes object but only {Remaining} bytes left");
        }

        if (count > Array.MaxLength)
        {
            throw Error($"a {count}-byte string or bytes object is too large");
        }

        return ReadExact((int)count);
    }

    private string ReadLine() => StrictUtf8.GetString(ReadLineBytes(MaxLineLength));

    // Text arguments end at a newline; names and numbers are short, escaped strings may be as long as the file.
    private byte[] ReadLineBytes(long maxLength)
    {
        var bytes = new List<byte>();
        while (true)
        {
            var b = _stream.ReadByte();
            if (b < 0)
            {
                throw Error("truncated inside a text argument");
            }

            if (b == '\n')
            {
                return [.. bytes];
            }

            if (bytes.Count == maxLength)
            {
                throw Error($"a text argument is longer than {maxLength} bytes");
            }

            bytes.Add((byte)b);
        }
    }

    private object ParseInteger(string text)
    {
        if (text.Length > MaxLineLength)
        {
            throw Error("an integer is too long");
        }

        var value = BigInteger.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
    }

    private long ParseMemoIndex(string text) =>
        long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : throw Error($"memo index '{text}' is not a number");

    private static object DecodeLong(byte[] littleEndianTwosComplement)
    {
        var value = new BigInteger(littleEndianTwosComplement, isUnsigned: false, isBigEndian: false);
        return value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
    }

    private object ResolveGlobal(string module, string name) =>
        PickleGlobalPolicy.Resolve(module, name)
        ?? throw new CheckpointFormatException(_path, $"{_source}: refused to load global '{module}.{name}': a checkpoint may only name tensors, containers and plain values (this file may try to run code)");

    private void SetItems(PickleDictionary dict, object?[] keysAndValues)
    {
        if (keysAndValues.Length % 2 != 0)
        {
            throw Error("SETITEMS with an odd number of items");
        }

        for (var i = 0; i < keysAndValues.Length; i += 2)
        {
            dict.Set(CheckKey(keysAndValues[i]), keysAndValues[i + 1]);
        }
    }

    private void AddAll(PickleSet set, IEnumerable<object?> items)
    {
        foreach (var item in items)
        {
            set.Add(CheckKey(item));
        }
    }

    // Python refuses unhashable keys; tensors as keys are never part of a checkpoint.
    private object? CheckKey(object? key) => key switch
    {
        List<object?> or PickleDictionary or PickleSet { IsFrozen: false } => throw Error($"unhashable {Describe(key)} used as a dictionary key or set item"),
        DeferredTensor or StorageReference => throw Error("a tensor or storage used as a dictionary key or set item is not supported"),
        _ => key,
    };

    private object? Call(object? callable, PickleTuple args)
    {
        if (callable is not PickleGlobal global)
        {
            throw Error($"REDUCE calls a {Describe(callable)}, which is not callable");
        }

        switch (PickleGlobalPolicy.KindOf(global))
        {
            case AllowedGlobalKind.OrderedDict:
                var dict = new PickleDictionary(isOrderedDict: true);
                if (args.Count > 0)
                {
                    foreach (var pair in Iterate(args[0], "OrderedDict argument"))
                    {
                        var kv = pair is PickleTuple or List<object?> ? ((IReadOnlyList<object?>)pair).ToArray() : null;
                        if (kv is not { Length: 2 })
                        {
                            throw Error("OrderedDict argument is not a sequence of key/value pairs");
                        }

                        SetItems(dict, kv);
                    }
                }

                return dict;
            case AllowedGlobalKind.RebuildTensorV2:
            case AllowedGlobalKind.RebuildTensor:
                if (args.Count < 4 || args[0] is not StorageReference storage)
                {
                    throw Error($"{global} expects (storage, offset, size, stride, ...) but got {args}");
                }

                return new DeferredTensor(storage, ToLong(args[1], "storage offset"), ToLongs(args[2], "size"), ToLongs(args[3], "stride"), Error);
            case AllowedGlobalKind.RebuildParameter:
            case AllowedGlobalKind.RebuildParameterWithState:
                return args.Count >= 1 && args[0] is DeferredTensor data ? data : throw Error($"{global} expects a tensor as its first argument");
            case AllowedGlobalKind.TorchSize:
                return args.Count == 0 ? PickleTuple.Empty : new PickleTuple([.. Iterate(args[0], "torch.Size argument")]);
            case AllowedGlobalKind.CodecsEncode:
                return Encode(args);
            case AllowedGlobalKind.Set:
            case AllowedGlobalKind.FrozenSet:
                var set = new PickleSet(isFrozen: PickleGlobalPolicy.KindOf(global) == AllowedGlobalKind.FrozenSet);
                if (args.Count > 0)
                {
                    AddAll(set, Iterate(args[0], "set argument"));
                }

                return set;
            case AllowedGlobalKind.NumpyScalar:
                return NumpyScalar.Decode(global, args);
            case AllowedGlobalKind.InertClass:
                return new PickleObject(global, args);
            default:
                throw Error($"global '{global}' cannot be called");
        }
    }

    private object Construct(object? cls, PickleTuple args)
    {
        if (cls is not PickleGlobal global)
        {
            throw Error($"NEWOBJ on a {Describe(cls)}, which is not a class");
        }

        return PickleGlobalPolicy.KindOf(global) switch
        {
            AllowedGlobalKind.OrderedDict => new PickleDictionary(isOrderedDict: true),
            AllowedGlobalKind.Set => new PickleSet(isFrozen: false),
            AllowedGlobalKind.InertClass => new PickleObject(global, args),
            _ => throw Error($"global '{global}' cannot be instantiated"),
        };
    }

    private void Build(object? target, object? state)
    {
        switch (target)
        {
            case PickleObject placeholder:
                placeholder.State = state;
                break;
            case PickleDictionary dict:
                dict.State = state;
                break;
            case DeferredTensor:
                break; // tensor attributes (e.g. requires_grad hooks) are irrelevant to the data
            default:
                throw Error($"BUILD applied to a {Describe(target)}");
        }
    }

    private byte[] Encode(PickleTuple args)
    {
        if (args.Count is < 1 or > 2 || args[0] is not string text)
        {
            throw Error($"_codecs.encode expects (str, encoding) but got {args}");
        }

        var encoding = args.Count == 2 ? args[1] as string : "utf-8";
        switch (encoding?.ToLowerInvariant())
        {
            case "latin1" or "latin-1" or "iso-8859-1":
                var bytes = new byte[text.Length];
                for (var i = 0; i < text.Length; i++)
                {
                    bytes[i] = text[i] <= 0xff ? (byte)text[i] : throw Error("_codecs.encode: a character is outside latin-1");
                }

                return bytes;
            case "utf-8" or "utf8":
                return StrictUtf8.GetBytes(text);
            default:
                throw Error($"_codecs.encode with encoding '{encoding}' is not supported");
        }
    }

    private IEnumerable<object?> Iterate(object? value, string what) => value switch
    {
        PickleTuple tuple => tuple,
        List<object?> list => list,
        PickleSet set => set,
        _ => throw Error($"{what} is a {Describe(value)}, not a sequence"),
    };

    private long ToLong(object? value, string what) => value is long number ? number : throw Error($"tensor {what} is a {Describe(value)}, not an integer");

    private long[] ToLongs(object? value, string what)
    {
        var items = Iterate(value, "tensor " + what).ToArray();
        if (items.Length > 64)
        {
            throw Error($"tensor {what} has {items.Length} dimensions");
        }

        return [.. items.Select(item => ToLong(item, what))];
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        List<object?> => "list",
        PickleDictionary => "dict",
        PickleTuple => "tuple",
        PickleSet => "set",
        PickleGlobal g => "global " + g,
        DeferredTensor => "tensor",
        StorageReference => "storage",
        _ => value.GetType().Name,
    };
}
