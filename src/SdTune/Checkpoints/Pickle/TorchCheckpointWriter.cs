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

        AtomicFile.Write(path, file =>
        {
            using var scope = torch.NewDisposeScope();
            var tensors = items.Select(item => item.Value.detach().cpu().contiguous()).ToList();
            var entries = items.Select((item, i) => new StateDictPickleWriter.Entry(
                item.Key, i.ToString(System.Globalization.CultureInfo.InvariantCulture), TorchStorageType.FromDType(tensors[i].dtype), tensors[i].numel(), tensors[i].shape)).ToList();

            var zip = new StoredZipWriter(file, forceZip64);
            zip.AddEntry($"{ArchiveName}/data.pkl", new StateDictPickleWriter().Write(entries, wrapperKey));
            zip.AddEntry($"{ArchiveName}/byteorder", Encoding.ASCII.GetBytes("little"));
            for (var i = 0; i < tensors.Count; i++)
            {
                var flat = tensors[i].reshape(-1);
                var length = flat.numel() * flat.element_size();
                var crc = 0u;
                ForEachChunk(flat, span => crc = Crc32.Append(crc, span));
                zip.AddEntry($"{ArchiveName}/data/{entries[i].StorageKey}", length, crc, stream => ForEachChunk(flat, stream.Write));
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
