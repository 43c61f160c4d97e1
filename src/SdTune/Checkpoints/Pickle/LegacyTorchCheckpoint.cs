using System.Buffers.Binary;
using System.Numerics;
using TorchSharp;

namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// The stream format of torch &lt; 1.6 (and <c>_use_new_zipfile_serialization=False</c>): five pickles in a row
/// (magic number, protocol version, system info, the object tree, the sorted storage keys), then each storage
/// as an int64 element count followed by its raw bytes.
/// </summary>
internal sealed class LegacyTorchCheckpoint : TorchCheckpointContainer
{
    private static readonly BigInteger MagicNumber = BigInteger.Parse("119547037146038801333356", System.Globalization.CultureInfo.InvariantCulture);
    private const long ProtocolVersion = 1001;

    private readonly FileStream _stream;
    private readonly Dictionary<string, StorageReference> _storages = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (long Offset, long Count)> _data = new(StringComparer.Ordinal);

    public LegacyTorchCheckpoint(string path, FileStream stream)
        : base(path)
    {
        _stream = stream;
        if (!MagicNumber.Equals(NextPickle("magic number")))
        {
            throw Error("not a legacy torch checkpoint (wrong magic number)");
        }

        if (NextPickle("protocol version") is not ProtocolVersion)
        {
            throw Error("unsupported legacy torch serialization protocol version");
        }

        if (NextPickle("system info") is PickleDictionary info && info.TryGetValue("little_endian", out var little) && little is false)
        {
            throw Error("checkpoint was written on a big-endian machine; only little-endian checkpoints are supported");
        }

        Root = new RestrictedUnpickler(stream, path, "object pickle", LoadStorage).Load();
        if (NextPickle("storage keys") is not List<object?> keys)
        {
            throw Error("storage key list is missing");
        }

        var header = new byte[8];
        foreach (var item in keys)
        {
            if (item is not string key || !_storages.TryGetValue(key, out var storage))
            {
                throw Error($"storage key list names '{item}', which no tensor uses");
            }

            if (stream.ReadAtLeast(header, 8, throwOnEndOfStream: false) != 8)
            {
                throw Error($"storage '{key}' is truncated");
            }

            var count = BinaryPrimitives.ReadInt64LittleEndian(header);
            var left = stream.Length - stream.Position;
            if (count < 0 || count > left / storage.Type.ElementSize)
            {
                throw Error($"storage '{key}' declares {count} × {storage.Type.Name} but only {left} bytes are left in the file");
            }

            _data[key] = (stream.Position, count);
            stream.Position += count * storage.Type.ElementSize;
        }

        foreach (var storage in _storages.Values)
        {
            if (!_data.TryGetValue(storage.Key, out var data))
            {
                throw Error($"storage '{storage.Key}' is used by a tensor but has no data");
            }

            if (storage.ElementOffset + storage.ElementCount > data.Count)
            {
                throw Error($"storage '{storage.Key}' is used with {storage.ElementOffset + storage.ElementCount} elements but holds {data.Count}");
            }
        }
    }

    public override torch.Tensor ReadStorage(StorageReference storage)
    {
        var (offset, count) = _data[storage.Key];
        _stream.Position = offset;
        return ReadFlat(_stream, storage, count);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stream.Dispose();
        }
    }

    private object? NextPickle(string what) =>
        new RestrictedUnpickler(_stream, Path, what, (_, error) => throw error($"unexpected persistent id in the {what}")).Load();

    // Persistent id: ('storage', storage class, root key, location, element count, view metadata or None).
    private object LoadStorage(PickleTuple id, Func<string, Exception> error)
    {
        if (id.Count != 6 || id[0] is not "storage" || id[1] is not PickleGlobal type || id[2] is not string key || id[4] is not long count)
        {
            throw error($"unexpected persistent id {id}");
        }

        var storageType = TorchStorageType.FromGlobalName(type.Name);
        if (type.Module != "torch" || storageType is null)
        {
            throw error($"persistent id names '{type}', which is not a torch storage class");
        }

        if (count < 0)
        {
            throw error($"storage '{key}' declares {count} elements");
        }

        if (_storages.TryGetValue(key, out var known))
        {
            if (known.Type != storageType || known.ElementCount != count)
            {
                throw error($"storage '{key}' is used with two different types or sizes");
            }
        }
        else
        {
            known = new StorageReference(key, storageType, count, 0);
            _storages.Add(key, known);
        }

        return id[5] switch
        {
            null => known,
            PickleTuple { Count: 3 } view when view[1] is long offset && view[2] is long size && offset >= 0 && size >= 0 && offset <= count - size
                => new StorageReference(key, storageType, size, offset),
            _ => throw error($"storage '{key}' has malformed view metadata {id[5]}"),
        };
    }
}
