using SdTune.Adapters.Hypernetworks;
using SdTune.Checkpoints.Hypernetworks;
using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Adapters.Formats;

/// <summary>
/// Turns A1111 hypernetwork files (<see cref="HypernetworkFile"/>) into <see cref="Hypernetwork"/>s and back: the
/// file's keys give the modules' settings (with A1111's defaults for missing ones), its state dicts their weights.
/// </summary>
public static class A1111HypernetworkFormat
{
    /// <summary>Loads a hypernetwork file into modules on the CPU (float32, evaluation mode, multiplier 1).</summary>
    /// <returns>The network and the file's other keys (name, step, model it was trained on).</returns>
    /// <exception cref="CheckpointFormatException">Not a hypernetwork file, unknown settings, or tensors that do not fit the layer structure (the message names the file and the tensor).</exception>
    public static (Hypernetwork Network, HypernetworkFileContents File) Load(string path)
    {
        var file = HypernetworkFile.Load(path);
        HypernetworkSettings settings;
        Hypernetwork network;
        try
        {
            settings = SettingsOf(file);
            network = new Hypernetwork(file.Layers.Select(l => l.Width), settings);
        }
        catch (ArgumentException e)
        {
            throw new CheckpointFormatException(path, e.Message);
        }

        try
        {
            using (no_grad())
            {
                foreach (var layer in file.Layers)
                {
                    var (key, value) = network[layer.Width];
                    CopyInto(path, layer.Width, "key", key, layer.Key);
                    CopyInto(path, layer.Width, "value", value, layer.Value);
                }
            }
        }
        catch
        {
            network.Dispose();
            throw;
        }

        network.eval();
        return (network, file);
    }

    /// <summary>Writes <paramref name="network"/> as an A1111 hypernetwork file (atomically).</summary>
    /// <param name="path">The <c>.pt</c> file to write.</param>
    /// <param name="network">The modules.</param>
    /// <param name="info">The file's other keys: name, step, the model it was trained on, free text (its <see cref="HypernetworkFileContents.Layers"/> and settings keys are ignored).</param>
    public static void Save(string path, Hypernetwork network, HypernetworkFileContents info)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(info);
        var s = network.Settings;
        var dropout = s.DropoutStructure ?? HypernetworkSettings.DropoutStructureFor(s.LayerStructure, false, false);
        var contents = info with
        {
            Layers = [.. network.Widths.Select(w => new HypernetworkFileLayer(w, StateOf(network[w].Key), StateOf(network[w].Value)))],
            LayerStructure = s.LayerStructure,
            ActivationFunc = s.Activation,
            WeightInitialization = s.WeightInit.ToString(),
            IsLayerNorm = s.LayerNorm,
            ActivateOutput = s.ActivateOutput,
            UseDropout = dropout.Any(p => p > 0),
            DropoutStructure = dropout,
            LastLayerDropout = dropout.Count >= 2 && dropout[^2] != 0,
        };
        HypernetworkFile.Save(path, contents);
    }

    /// <summary>The module settings a file describes, with A1111's load defaults.</summary>
    /// <exception cref="ArgumentException">An unknown activation or weight initialization, or an invalid structure.</exception>
    public static HypernetworkSettings SettingsOf(HypernetworkFileContents file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var settings = new HypernetworkSettings
        {
            LayerStructure = file.LayerStructure,
            Activation = file.ActivationFunc ?? HypernetworkActivations.Linear,
            WeightInit = HypernetworkWeightInits.Parse(file.WeightInitialization),
            LayerNorm = file.IsLayerNorm,
            ActivateOutput = file.ActivateOutput,
            DropoutStructure = file.DropoutStructure ?? HypernetworkSettings.DropoutStructureFor(file.LayerStructure, file.UseDropout, file.LastLayerDropout),
        };
        settings.Validate();
        return settings;
    }

    private static List<KeyValuePair<string, Tensor>> StateOf(HypernetworkModule module) =>
        [.. module.state_dict().Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value))];

    private static void CopyInto(string path, long width, string side, HypernetworkModule module, IReadOnlyList<KeyValuePair<string, Tensor>> saved)
    {
        var live = module.state_dict();
        var given = saved.ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        var missing = live.Keys.Where(k => !given.ContainsKey(k)).ToList();
        var unexpected = given.Keys.Where(k => !live.ContainsKey(k)).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            throw new CheckpointFormatException(path,
                $"hypernetwork width {width}, {side} module: the tensors do not match the layer structure [{HypernetworkSettings.Describe(module.Settings.LayerStructure)}] " +
                $"with activation {module.Settings.Activation}{(module.Settings.LayerNorm ? " and layer norm" : "")}" +
                (missing.Count > 0 ? $"; missing {string.Join(", ", missing)}" : "") +
                (unexpected.Count > 0 ? $"; unexpected {string.Join(", ", unexpected)}" : "") + ".");
        }

        foreach (var (name, tensor) in live)
        {
            var source = given[name];
            if (!source.shape.SequenceEqual(tensor.shape))
            {
                throw new CheckpointFormatException(path, $"hypernetwork width {width}, {side} module: '{name}' has shape [{string.Join(", ", source.shape)}], expected [{string.Join(", ", tensor.shape)}].");
            }

            tensor.copy_(source);
        }
    }
}
