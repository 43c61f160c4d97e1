using System.Globalization;
using SdTune.Checkpoints.Pickle;
using SdTune.IO;

namespace SdTune.Checkpoints.Inspection;

/// <summary>
/// Inspects PyTorch pickle files (<c>.ckpt</c>, <c>.pt</c>, <c>.bin</c>) through the restricted unpickler without
/// reading any tensor data: A1111 embeddings and hypernetworks are recognised by their object structure,
/// anything else by the names of its state dict.
/// </summary>
internal static class TorchPickleInspector
{

    public static InspectionReport Inspect(string path)
    {
        using var container = TorchCheckpointContainer.Open(path);
        if (container.Root is not PickleDictionary root)
        {
            throw new CheckpointFormatException(path, $"holds a {container.Root?.GetType().Name ?? "None"}, not a dictionary: not a model file.");
        }

        if (root.TryGetValue("string_to_param", out var parameters))
        {
            return InspectA1111Embedding(path, root, parameters);
        }

        if (root.Keys.Any(k => k is long))
        {
            return InspectHypernetwork(path, root);
        }

        var dict = root;
        var metadata = PrimitiveEntries(root);
        dict = TorchCheckpointReader.UnwrapStateDict(dict);

        var tensors = dict.Where(e => e.Key is string && e.Value is DeferredTensor)
            .Select(e => Entry((string)e.Key, (DeferredTensor)e.Value!))
            .ToList();
        return ModelInspector.Summarise(path, "pytorch-pickle", tensors, metadata);
    }

    private static InspectionReport InspectA1111Embedding(string path, PickleDictionary root, object? parameters)
    {
        var vectors = parameters switch
        {
            PickleDictionary d => d.Where(e => e.Value is DeferredTensor).Select(e => Entry(e.Key.ToString() ?? "*", (DeferredTensor)e.Value!)).ToList(),
            _ => throw new CheckpointFormatException(path, "string_to_param is not a dictionary of tensors."),
        };
        if (vectors.Count != 1)
        {
            throw new CheckpointFormatException(path, $"string_to_param must hold exactly one tensor, not {vectors.Count} (A1111 rule).");
        }

        var vector = vectors[0];
        var width = vector.Shape.Count > 0 ? vector.Shape[^1] : 0;
        var count = vector.Shape.Count == 2 ? vector.Shape[0] : 1;
        return new InspectionReport
        {
            Path = path,
            Format = "pytorch-pickle",
            Kind = ModelFileKind.Embedding,
            Architecture = width switch { 768 => ModelArchitecture.SD1, 1024 => ModelArchitecture.SD2, _ => ModelArchitecture.Unknown },
            Flavour = $"A1111 textual inversion (string_to_param), {count} vectors of width {width}",
            TensorCount = 1,
            ParameterCount = vector.ElementCount,
            DTypes = new Dictionary<string, int> { [vector.DType] = 1 },
            Metadata = PrimitiveEntries(root),
        };
    }

    private static InspectionReport InspectHypernetwork(string path, PickleDictionary root)
    {
        var tensors = new List<TensorEntry>();
        var sizes = new List<long>();
        foreach (var (key, value) in root)
        {
            if (key is not long size)
            {
                continue;
            }

            sizes.Add(size);
            var pair = value as IEnumerable<object?> ?? [];
            var side = 0;
            foreach (var module in pair)
            {
                if (module is PickleDictionary weights)
                {
                    tensors.AddRange(weights.Where(e => e.Value is DeferredTensor).Select(e => Entry($"{size}.{(side == 0 ? "k" : "v")}.{e.Key}", (DeferredTensor)e.Value!)));
                }

                side++;
            }
        }

        var metadata = PrimitiveEntries(root);
        var architecture = sizes.Contains(1024) && !sizes.Contains(768) ? ModelArchitecture.SD2 : sizes.Contains(768) ? ModelArchitecture.SD1 : ModelArchitecture.Unknown;
        metadata.TryGetValue("layer_structure", out var structure);
        metadata.TryGetValue("activation_func", out var activation);
        return new InspectionReport
        {
            Path = path,
            Format = "pytorch-pickle",
            Kind = ModelFileKind.Hypernetwork,
            Architecture = architecture,
            Flavour = $"A1111 hypernetwork for context widths {string.Join(", ", sizes)}; layer structure {structure ?? "[1, 2, 1]"}, activation {activation ?? "linear"}",
            TensorCount = tensors.Count,
            ParameterCount = tensors.Sum(t => t.ElementCount),
            DTypes = tensors.GroupBy(t => t.DType).ToDictionary(g => g.Key, g => g.Count()),
            Metadata = metadata,
        };
    }

    private static TensorEntry Entry(string name, DeferredTensor tensor) =>
        new(name, SafetensorsName(tensor.Storage.Type.DType), tensor.Shape);

    private static string SafetensorsName(TorchSharp.torch.ScalarType type)
    {
        try
        {
            return Safetensors.SafetensorsDTypes.FromScalarType(type).ToString();
        }
        catch (NotSupportedException)
        {
            return type.ToString();
        }
    }

    /// <summary>String, number, bool and list-of-number entries of a dictionary, shown as metadata.</summary>
    private static Dictionary<string, string> PrimitiveEntries(PickleDictionary dict)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in dict)
        {
            if (key is not string name)
            {
                continue;
            }

            var text = Format(value);
            if (text is not null)
            {
                result[name] = text;
            }
        }

        return result;
    }

    private static string? Format(object? value) => value switch
    {
        null => "None",
        string s => s,
        bool b => b ? "True" : "False",
        long or int or System.Numerics.BigInteger => Convert.ToString(value, CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IEnumerable<object?> list when list.All(i => i is long or double or string or bool) => "[" + string.Join(", ", list.Select(Format)) + "]",
        _ => null,
    };
}
