using System.Text.Json;
using SdTune.Checkpoints.Inspection;
using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Checkpoints;

/// <summary>
/// Several weight files presented as one source, as diffusers and transformers store large models:
/// <c>*.safetensors.index.json</c> maps each tensor name to the shard file holding it.
/// </summary>
public sealed class ShardedTensorSource : ITensorSource
{
    private readonly Dictionary<string, ITensorSource> owner = new(StringComparer.Ordinal);
    private readonly List<ITensorSource> shards;

    private ShardedTensorSource(string path, List<ITensorSource> shards)
    {
        Path = path;
        this.shards = shards;
        var entries = new List<TensorEntry>();
        foreach (var shard in shards)
        {
            foreach (var entry in shard.Entries)
            {
                if (!owner.TryAdd(entry.Name, shard))
                {
                    throw new CheckpointFormatException(path, $"tensor '{entry.Name}' is stored in both {owner[entry.Name].Path} and {shard.Path}.");
                }

                entries.Add(entry);
            }
        }

        Entries = entries;
    }

    /// <inheritdoc />
    public string Path { get; }

    /// <inheritdoc />
    public IReadOnlyList<TensorEntry> Entries { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> Metadata => shards.Count > 0 ? shards[0].Metadata : new Dictionary<string, string>();

    /// <summary>Opens every shard named by an index file (<c>{"weight_map": {tensor: file}}</c>).</summary>
    /// <param name="indexPath">The <c>.index.json</c> file.</param>
    /// <param name="open">Opens one shard file.</param>
    /// <exception cref="CheckpointFormatException">The index is malformed, names a missing shard, or disagrees with the shards.</exception>
    public static ShardedTensorSource Open(string indexPath, Func<string, ITensorSource> open)
    {
        ArgumentNullException.ThrowIfNull(open);
        Dictionary<string, string> weightMap;
        try
        {
            using var document = IO.StrictJson.Parse(File.ReadAllText(indexPath));
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException(indexPath, "missing 'weight_map' object.");
            }

            weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in map.EnumerateObject())
            {
                weightMap[entry.Name] = entry.Value.ValueKind == JsonValueKind.String
                    ? entry.Value.GetString()!
                    : throw new CheckpointFormatException(indexPath, $"weight_map entry '{entry.Name}' is a {entry.Value.ValueKind}, not a shard file name.");
            }
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(indexPath, $"not valid JSON: {e.Message}");
        }

        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(indexPath))!;
        var shards = new List<ITensorSource>();
        try
        {
            foreach (var file in weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            {
                if (file.Length == 0 || file.Contains('/', StringComparison.Ordinal) || file.Contains('\\', StringComparison.Ordinal) || file.StartsWith('.'))
                {
                    throw new CheckpointFormatException(indexPath, $"shard name '{file}' must be a plain file name in the same folder.");
                }

                var shardPath = System.IO.Path.Combine(folder, file);
                if (!File.Exists(shardPath))
                {
                    throw new CheckpointFormatException(indexPath, $"shard '{file}' is missing.");
                }

                shards.Add(open(shardPath));
            }

            var source = new ShardedTensorSource(indexPath, shards);
            var missing = weightMap.Keys.Where(k => !source.Contains(k)).Take(5).ToList();
            if (missing.Count > 0)
            {
                throw new CheckpointFormatException(indexPath, $"the index names tensors its shards do not hold: {string.Join(", ", missing)}.");
            }

            return source;
        }
        catch
        {
            shards.ForEach(s => s.Dispose());
            throw;
        }
    }

    /// <inheritdoc />
    public bool SupportsConcurrentReads => shards.TrueForAll(s => s.SupportsConcurrentReads);

    /// <inheritdoc />
    public bool Contains(string name) => owner.ContainsKey(name);

    /// <inheritdoc />
    public Tensor Read(string name) => Owner(name).Read(name);

    /// <inheritdoc />
    public void ReadInto(string name, Tensor destination) => Owner(name).ReadInto(name, destination);

    /// <inheritdoc />
    public void Dispose() => shards.ForEach(s => s.Dispose());

    private ITensorSource Owner(string name) =>
        owner.TryGetValue(name, out var shard) ? shard : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'.");
}
