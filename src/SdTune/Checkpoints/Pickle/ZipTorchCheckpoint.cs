using System.IO.Compression;
using System.Text;
using TorchSharp;

namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// The zip format <c>torch.save</c> writes since torch 1.6: <c>&lt;archive&gt;/data.pkl</c> (the object tree),
/// <c>&lt;archive&gt;/data/&lt;key&gt;</c> (one raw little-endian entry per storage), <c>byteorder</c> and <c>version</c>.
/// </summary>
internal sealed class ZipTorchCheckpoint : TorchCheckpointContainer
{
    private const long MaxPickleBytes = 1L << 30;

    // The deflate format cannot expand data more than about 1032:1; a bigger claim is a forged header.
    private const long MaxDeflateRatio = 1032;

    private readonly ZipArchive _zip;
    private readonly Dictionary<string, ZipArchiveEntry> _entries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StorageReference> _storages = new(StringComparer.Ordinal);
    private readonly string _prefix;
    private readonly long _fileLength;

    public ZipTorchCheckpoint(string path, FileStream stream)
        : base(path)
    {
        _fileLength = stream.Length;
        _zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: false);
        foreach (var entry in _zip.Entries)
        {
            _entries.TryAdd(entry.FullName, entry);
        }

        var pickles = _entries.Keys.Where(name => name.EndsWith("/data.pkl", StringComparison.Ordinal) && name.IndexOf('/', StringComparison.Ordinal) == name.Length - "/data.pkl".Length).ToList();
        if (pickles.Count != 1)
        {
            throw Error(pickles.Count == 0 ? "zip archive has no '<archive>/data.pkl': not a torch.save checkpoint" : "zip archive has several '<archive>/data.pkl' entries");
        }

        _prefix = pickles[0][..^"data.pkl".Length];
        CheckByteOrder();

        var pickleEntry = _entries[pickles[0]];
        CheckEntrySize(pickleEntry);
        if (pickleEntry.Length > MaxPickleBytes)
        {
            throw Error($"{pickleEntry.FullName} is {pickleEntry.Length} bytes, more than a checkpoint's object tree can plausibly need");
        }

        var pickle = new byte[pickleEntry.Length];
        using (var entryStream = pickleEntry.Open())
        {
            if (entryStream.ReadAtLeast(pickle, pickle.Length, throwOnEndOfStream: false) != pickle.Length)
            {
                throw Error($"{pickleEntry.FullName} is truncated");
            }
        }

        using var pickleStream = new MemoryStream(pickle, writable: false);
        Root = new RestrictedUnpickler(pickleStream, path, pickleEntry.FullName, LoadStorage).Load();
    }

    public override torch.Tensor ReadStorage(StorageReference storage)
    {
        var entry = _entries[_prefix + "data/" + storage.Key];
        using var stream = entry.Open();
        return ReadFlat(stream, storage, storage.ElementCount);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _zip.Dispose();
        }
    }

    private void CheckByteOrder()
    {
        if (!_entries.TryGetValue(_prefix + "byteorder", out var entry))
        {
            return; // written since torch 2.1; older files are little-endian
        }

        if (entry.Length > 16)
        {
            throw Error($"{entry.FullName} is not 'little' or 'big'");
        }

        using var stream = entry.Open();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        var order = reader.ReadToEnd().Trim();
        if (order != "little")
        {
            throw Error($"storages are stored in '{order}' byte order; only little-endian checkpoints are supported");
        }
    }

    private void CheckEntrySize(ZipArchiveEntry entry)
    {
        var stored = entry.CompressedLength == entry.Length;
        if (entry.CompressedLength > _fileLength || (!stored && entry.Length > entry.CompressedLength * MaxDeflateRatio))
        {
            throw Error($"zip entry '{entry.FullName}' claims {entry.Length} bytes, more than the file can hold");
        }
    }

    // Persistent id: ('storage', storage class, key, location, element count).
    private object LoadStorage(PickleTuple id, Func<string, Exception> error)
    {
        if (id.Count != 5 || id[0] is not "storage" || id[1] is not PickleGlobal type || id[2] is not string key || id[4] is not long count)
        {
            throw error($"unexpected persistent id {id}");
        }

        var storageType = TorchStorageType.FromGlobalName(type.Name);
        if (type.Module != "torch" || storageType is null)
        {
            throw error($"persistent id names '{type}', which is not a torch storage class");
        }

        if (_storages.TryGetValue(key, out var known))
        {
            return known.Type == storageType && known.ElementCount == count
                ? known
                : throw error($"storage '{key}' is used both as {known.ElementCount} × {known.Type.Name} and as {count} × {storageType.Name}");
        }

        if (!_entries.TryGetValue(_prefix + "data/" + key, out var entry))
        {
            throw error($"storage '{key}' has no entry '{_prefix}data/{key}' in the archive");
        }

        CheckEntrySize(entry);
        if (count < 0 || count > entry.Length / storageType.ElementSize)
        {
            throw error($"storage '{key}' declares {count} × {storageType.Name} ({storageType.ElementSize} bytes each) but its entry holds {entry.Length} bytes");
        }

        var storage = new StorageReference(key, storageType, count, 0);
        _storages.Add(key, storage);
        return storage;
    }
}
