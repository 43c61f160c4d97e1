using SdTune.Checkpoints.Pickle;
using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Checkpoints.Hypernetworks;

/// <summary>
/// Reads and writes A1111 hypernetwork files: a <c>torch.save</c>d dict whose integer keys are context widths, each
/// holding a tuple <c>(key_module.state_dict(), value_module.state_dict())</c>, plus the string keys <c>step</c>,
/// <c>name</c>, <c>layer_structure</c>, <c>activation_func</c>, <c>is_layer_norm</c>, <c>weight_initialization</c>,
/// <c>sd_checkpoint</c>, <c>sd_checkpoint_name</c>, <c>activate_output</c>, <c>use_dropout</c>, <c>dropout_structure</c>,
/// <c>last_layer_dropout</c> and <c>optional_info</c>. Legacy tensor names <c>linear1.*</c>/<c>linear2.*</c> are read
/// as <c>linear.0.*</c>/<c>linear.1.*</c>.
/// </summary>
public static class HypernetworkFile
{
    private static readonly Dictionary<string, string> LegacyNames = new(StringComparer.Ordinal)
    {
        ["linear1.weight"] = "linear.0.weight",
        ["linear1.bias"] = "linear.0.bias",
        ["linear2.weight"] = "linear.1.weight",
        ["linear2.bias"] = "linear.1.bias",
    };

    /// <summary>Reads a hypernetwork file (through the restricted unpickler); tensors are float32 on the CPU.</summary>
    /// <exception cref="CheckpointFormatException">The file is not an A1111 hypernetwork, or a key has the wrong type (the message names it).</exception>
    public static HypernetworkFileContents Load(string path)
    {
        if (TorchPickleFile.Load(path) is not PickleDictionary root)
        {
            throw new CheckpointFormatException(path, "not an A1111 hypernetwork: the file does not hold a dictionary.");
        }

        var layers = new List<HypernetworkFileLayer>();
        foreach (var (key, value) in root)
        {
            if (key is not long width)
            {
                continue;
            }

            if (value is not IReadOnlyList<object?> { Count: 2 } pair)
            {
                throw new CheckpointFormatException(path, $"hypernetwork width {width} must hold a pair (key state dict, value state dict).");
            }

            layers.Add(new HypernetworkFileLayer(width, StateDict(path, width, "key", pair[0]), StateDict(path, width, "value", pair[1])));
        }

        if (layers.Count == 0)
        {
            throw new CheckpointFormatException(path, "not an A1111 hypernetwork: no integer context-width keys (e.g. 768) found.");
        }

        var layerStructure = Numbers(path, root, "layer_structure");
        var dropoutStructure = Numbers(path, root, "dropout_structure");
        return new HypernetworkFileContents
        {
            Layers = layers,
            Name = Get<string>(path, root, "name", "a string"),
            Step = Get<long?>(path, root, "step", "an integer"),
            LayerStructure = layerStructure ?? [1, 2, 1],
            ActivationFunc = Get<string>(path, root, "activation_func", "a string"),
            WeightInitialization = Get<string>(path, root, "weight_initialization", "a string") ?? "Normal",
            IsLayerNorm = Get<bool?>(path, root, "is_layer_norm", "true or false") ?? false,
            ActivateOutput = Get<bool?>(path, root, "activate_output", "true or false") ?? true,
            UseDropout = Get<bool?>(path, root, "use_dropout", "true or false") ?? false,
            DropoutStructure = dropoutStructure,
            LastLayerDropout = Get<bool?>(path, root, "last_layer_dropout", "true or false") ?? false,
            SdCheckpoint = Get<string>(path, root, "sd_checkpoint", "a string"),
            SdCheckpointName = Get<string>(path, root, "sd_checkpoint_name", "a string"),
            OptionalInfo = Get<string>(path, root, "optional_info", "a string"),
        };
    }

    /// <summary>
    /// Writes <paramref name="contents"/> as A1111 does (a dict: the widths in order, each a tuple of two OrderedDicts,
    /// then the string keys; <c>last_layer_dropout</c> is derived from the dropout structure when there is one).
    /// Written atomically; tensors are stored as given, on the CPU.
    /// </summary>
    public static void Save(string path, HypernetworkFileContents contents)
    {
        ArgumentNullException.ThrowIfNull(contents);
        using var scope = NewDisposeScope();
        var entries = new List<KeyValuePair<object, object?>>();
        foreach (var layer in contents.Layers)
        {
            entries.Add(new(layer.Width, PickleTuple.Of(OrderedDict(layer.Key), OrderedDict(layer.Value))));
        }

        var dropout = contents.DropoutStructure;
        entries.Add(new("step", contents.Step));
        entries.Add(new("name", contents.Name));
        entries.Add(new("layer_structure", contents.LayerStructure.Select(v => (object?)v).ToList()));
        entries.Add(new("activation_func", contents.ActivationFunc));
        entries.Add(new("is_layer_norm", contents.IsLayerNorm));
        entries.Add(new("weight_initialization", contents.WeightInitialization));
        entries.Add(new("sd_checkpoint", contents.SdCheckpoint));
        entries.Add(new("sd_checkpoint_name", contents.SdCheckpointName));
        entries.Add(new("activate_output", contents.ActivateOutput));
        entries.Add(new("use_dropout", contents.UseDropout));
        entries.Add(new("dropout_structure", dropout?.Select(v => (object?)v).ToList()));
        entries.Add(new("last_layer_dropout", dropout is { Count: >= 2 } ? dropout[^2] != 0 : contents.LastLayerDropout));
        entries.Add(new("optional_info", string.IsNullOrEmpty(contents.OptionalInfo) ? null : contents.OptionalInfo));
        TorchCheckpointWriter.SaveObject(path, PickleDictionary.Of(entries));
    }

    private static PickleDictionary OrderedDict(IReadOnlyList<KeyValuePair<string, Tensor>> state) =>
        PickleDictionary.Of(state.Select(kv => new KeyValuePair<object, object?>(kv.Key, kv.Value.detach().cpu().contiguous())), isOrderedDict: true);

    private static List<KeyValuePair<string, Tensor>> StateDict(string path, long width, string side, object? value)
    {
        if (value is not PickleDictionary dict)
        {
            throw new CheckpointFormatException(path, $"hypernetwork width {width}: the {side} module's state dict is not a dictionary.");
        }

        var state = new List<KeyValuePair<string, Tensor>>();
        foreach (var (key, tensor) in dict)
        {
            if (key is not string name || tensor is not Tensor t)
            {
                throw new CheckpointFormatException(path, $"hypernetwork width {width}: the {side} state dict holds '{key}', which is not a named tensor.");
            }

            state.Add(new(LegacyNames.GetValueOrDefault(name, name), t.to(ScalarType.Float32).detach()));
        }

        return state;
    }

    private static T? Get<T>(string path, PickleDictionary root, string key, string expected)
    {
        if (!root.TryGetValue(key, out var value) || value is null)
        {
            return default;
        }

        return value is T typed ? typed : throw new CheckpointFormatException(path, $"hypernetwork key '{key}' holds {Describe(value)}, expected {expected}.");
    }

    private static List<double>? Numbers(string path, PickleDictionary root, string key)
    {
        if (!root.TryGetValue(key, out var value) || value is null)
        {
            return null;
        }

        if (value is not IEnumerable<object?> list || value is string)
        {
            throw new CheckpointFormatException(path, $"hypernetwork key '{key}' holds {Describe(value)}, expected a list of numbers.");
        }

        return [.. list.Select(item => item switch
        {
            long l => l,
            double d => d,
            bool => throw new CheckpointFormatException(path, $"hypernetwork key '{key}' holds a bool, expected numbers."),
            _ => throw new CheckpointFormatException(path, $"hypernetwork key '{key}' holds {Describe(item)}, expected numbers."),
        })];
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"the string \"{s}\"",
        _ => $"a {value.GetType().Name}",
    };
}
