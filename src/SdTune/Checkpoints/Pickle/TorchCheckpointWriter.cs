using System.Text;
using SdTune.IO;
using TorchSharp;

namespace SdTune.Checkpoints.Pickle;

/// <summary>Writes state dicts as torch.save-compatible zip checkpoints (<c>.ckpt</c>, <c>.pt</c>, <c>.bin</c>).</summary>
public static class TorchCheckpointWriter
{
    private const string ArchiveName = "archive";
    private const int WriteChunkBytes = 64 << 20;

    /// <summary>
    /// Saves tensors as <c>torch.save(OrderedDict)</c> would (pickle protocol 2, one storage per tensor, data
    /// 64-byte aligned, little-endian), readable by <c>torch.load</c> and by <see cref="TorchCheckpointReader"/>.
    /// The file is written to a temporary name in the same folder and moved over <paramref name="path"/> only
    /// when complete, so a failure never leaves a truncated checkpoint behind.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="stateDict">Name/tensor pairs, written in this order; names must be unique.</param>
    public static void Save(string path, IEnumerable<KeyValuePair<string, torch.Tensor>> stateDict) => Save(path, stateDict, forceZip64: false);

    /// <summary>
    /// As <see cref="Save(string, IEnumerable{KeyValuePair{string, torch.Tensor}})"/>, with the state dict stored
    /// under one key of an outer dictionary, <c>{wrapperKey: state_dict}</c>: original Stable Diffusion checkpoints
    /// keep their weights under <c>"state_dict"</c>.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="stateDict">Name/tensor pairs, written in this order; names must be unique.</param>
    /// <param name="wrapperKey">The outer dictionary's key, or null for a bare state dict.</param>
    public static void Save(string path, IEnumerable<KeyValuePair<string, torch.Tensor>> stateDict, string? wrapperKey) =>
        Save(path, stateDict, forceZip64: false, wrapperKey);

    internal static void Save(string path, IEnumerable<KeyValuePair<string, torch.Tensor>> stateDict, bool forceZip64, string? wrapperKey = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(stateDict);
        var items = stateDict.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, tensor) in items)
        {
            if (name is null || tensor is null)
            {
                throw new ArgumentException("State dict names and tensors must not be null.", nameof(stateDict));
            }

            if (!names.Add(name))
            {
                throw new ArgumentException($"State dict name '{name}' appears twice.", nameof(stateDict));
            }
        }

        var state = PickleDictionary.Of(items.Select(i => new KeyValuePair<object, object?>(i.Key, i.Value)), isOrderedDict: true);
        Write(path, wrapperKey is null ? state : PickleDictionary.Of([new(wrapperKey, state)]), forceZip64);
    }

    /// <summary>
    /// Saves a tree of Python values as <c>torch.save(obj)</c> would: <c>null</c> (None), <see cref="bool"/>,
    /// integers, <see cref="double"/>, <see cref="string"/>, lists (<see cref="IReadOnlyList{T}"/> of objects),
    /// tuples (<see cref="PickleTuple.Of"/>), dicts and OrderedDicts (<see cref="PickleDictionary.Of"/>) and tensors
    /// (each its own storage). Written atomically, like <see cref="Save(string, IEnumerable{KeyValuePair{string, torch.Tensor}})"/>.
    /// </summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="root">The object to save (A1111's embedding and hypernetwork files are dicts).</param>
    /// <exception cref="ArgumentException">A value of a type that cannot be pickled.</exception>
    public static void SaveObject(string path, object? root) => Write(path, root, forceZip64: false);

    private static void Write(string path, object? root, bool forceZip64)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var scope = torch.NewDisposeScope();
        var writer = new PickleValueWriter();
        var pickle = writer.Write(root);
        AtomicFile.Write(path, file =>
        {
            var zip = new StoredZipWriter(file, forceZip64);
            zip.AddEntry($"{ArchiveName}/data.pkl", pickle);
            zip.AddEntry($"{ArchiveName}/byteorder", Encoding.ASCII.GetBytes("little"));
            for (var i = 0; i < writer.Tensors.Count; i++)
            {
                var flat = writer.Tensors[i].reshape(-1);
                var length = flat.numel() * flat.element_size();
                var crc = 0u;
                ForEachChunk(flat, span => crc = Crc32.Append(crc, span));
                zip.AddEntry($"{ArchiveName}/data/{i.ToString(System.Globalization.CultureInfo.InvariantCulture)}", length, crc, stream => ForEachChunk(flat, stream.Write));
            }

            zip.AddEntry($"{ArchiveName}/version", Encoding.ASCII.GetBytes("3\n"));
            zip.Finish();
        });
    }

    private delegate void SpanAction(ReadOnlySpan<byte> bytes);

    // Tensor.bytes spans are limited to 2 GB, so large tensors are visited in slices of their own memory.
    private static void ForEachChunk(torch.Tensor flat, SpanAction action)
    {
        var count = flat.numel();
        var chunk = Math.Max(1, WriteChunkBytes / flat.element_size());
        for (long start = 0; start < count; start += chunk)
        {
            using var slice = flat.narrow(0, start, Math.Min(chunk, count - start));
            action(slice.bytes);
        }
    }
}
