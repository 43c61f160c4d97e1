using System.Text.Json.Nodes;
using SdTune.Checkpoints.Pickle;
using SdTune.Checkpoints.Safetensors;
using SdTune.Checkpoints.SingleFile;
using SdTune.IO;
using SdTune.Models.Control;
using static TorchSharp.torch;

namespace SdTune.Checkpoints.Control;

/// <summary>
/// Single-file ControlNets in the original layout (lllyasviel's <c>cldm.ControlNet</c>, the files A1111's and
/// ComfyUI's ControlNet loaders take): safetensors or a PyTorch pickle, names optionally under <c>control_model.</c>
/// (whose other tensors, such as the whole SD model of ControlNet 1.0 files, are skipped). A safetensors file in
/// diffusers names is read too. The config is read from the <see cref="ConfigKey"/> metadata SdTune writes, otherwise
/// derived from the shapes (<see cref="ControlNetConfigDerivation"/>): <c>global_pool_conditions</c> (the shuffle
/// model) cannot be seen in the weights and is then false.
/// </summary>
public static class ControlNetSingleFile
{
    /// <summary>The safetensors metadata key holding the diffusers config of the ControlNet, written by <see cref="Save"/>.</summary>
    public const string ConfigKey = "sdtune.controlnet_config";

    private static readonly string[] PickleExtensions = [".ckpt", ".pt", ".pth"];

    /// <summary>Loads a single-file ControlNet.</summary>
    /// <param name="path">A safetensors or PyTorch pickle file (told apart by content).</param>
    /// <param name="options">Element type, and whether unknown tensors are skipped; null for <see cref="ModelLoadOptions.Default"/>.</param>
    /// <exception cref="CheckpointFormatException">The file is no ControlNet, or tensors are missing, unknown or mis-shaped; the message names the file and tensors.</exception>
    public static ControlNetModel Load(string path, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= ModelLoadOptions.Default;
        options.Validate();
        using var source = TensorSources.Open(path);
        var all = source.Entries.ToDictionary(e => e.Name, e => e.Shape.ToArray(), StringComparer.Ordinal);
        var prefix = all.Keys.Any(k => k.StartsWith(ControlNetKeyMap.Prefix, StringComparison.Ordinal)) ? ControlNetKeyMap.Prefix : "";
        var shapes = SingleFileInspector.Strip(all, prefix);
        var diffusersNames = shapes.Keys.Any(k => k.StartsWith("controlnet_cond_embedding.", StringComparison.Ordinal));
        if (!diffusersNames && !shapes.Keys.Any(k => k.StartsWith("input_hint_block.", StringComparison.Ordinal)))
        {
            throw new CheckpointFormatException(path, "not a ControlNet: it has neither an original hint encoder ('input_hint_block.*', optionally under 'control_model.') nor a diffusers one ('controlnet_cond_embedding.*').");
        }

        var table = diffusersNames ? TableFromDiffusers(shapes.Keys, path) : null;
        var originalShapes = table is null ? shapes : shapes.ToDictionary(p => table.ToOriginal(p.Key) ?? p.Key, p => p.Value, StringComparer.Ordinal);
        var config = source.Metadata.TryGetValue(ConfigKey, out var recorded)
            ? ControlNetConfig.Parse(recorded, $"{path} (metadata {ConfigKey})")
            : ControlNetConfigDerivation.Derive(originalShapes, path);
        table ??= Table(UnetLayout.FromOriginal(shapes.Keys), config, path);

        var model = ModuleFiles.BuildEmpty(() => new ControlNetModel(config), options.DType);
        try
        {
            var targets = Runtime.ModuleTensors.Of(model);
            var plan = Plan(shapes, targets, name => diffusersNames ? name : table.ToDiffusers(name), options.AllowUnknownKeys, path);
            using var noGrad = no_grad();
            foreach (var (name, target) in plan)
            {
                source.ReadInto(prefix + name, target);
            }

            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Saves a ControlNet in the original single-file layout: a <c>.ckpt</c>/<c>.pt</c>/<c>.pth</c> extension gives a
    /// PyTorch pickle of the plain state dict, any other safetensors (with the config in <see cref="ConfigKey"/>
    /// metadata). The file is replaced atomically.
    /// </summary>
    /// <param name="controlNet">The model.</param>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="options">The element type saved; null keeps each tensor's type.</param>
    /// <param name="controlModelPrefix">Write every name under <c>control_model.</c>, as ControlNet 1.0 files have them.</param>
    public static void Save(ControlNetModel controlNet, string path, ModelSaveOptions? options = null, bool controlModelPrefix = false)
    {
        ArgumentNullException.ThrowIfNull(controlNet);
        ArgumentException.ThrowIfNullOrEmpty(path);
        options ??= ModelSaveOptions.Default;
        options.Validate();
        var targets = Runtime.ModuleTensors.Of(controlNet).ToList();
        var table = Table(UnetLayout.FromDiffusers(targets.Select(t => t.Key).ToList()), controlNet.Config, "ControlNet");
        var prefix = controlModelPrefix ? ControlNetKeyMap.Prefix : "";
        var names = targets.Select(t => prefix + (table.ToOriginal(t.Key)
            ?? throw new CheckpointFormatException("ControlNet", $"the tensor '{t.Key}' has no place in the original ControlNet layout"))).ToList();

        if (PickleExtensions.Contains(Path.GetExtension(path).ToLowerInvariant()))
        {
            var stateDict = targets.Select((t, i) => new KeyValuePair<string, Tensor>(names[i], ModuleFiles.ForSaving(t.Value, options.DType))).ToList();
            try
            {
                TorchCheckpointWriter.Save(path, stateDict);
            }
            finally
            {
                stateDict.ForEach(t => t.Value.Dispose());
            }

            return;
        }

        var layout = targets.Select((t, i) => new SafetensorsTensorLayout(names[i], SafetensorsDTypes.FromScalarType(ModuleFiles.SavedType(t.Value.dtype, options.DType)), t.Value.shape)).ToList();
        var metadata = new Dictionary<string, string> { [ConfigKey] = JsonNode.Parse(controlNet.Config.ToJson())!.ToJsonString() };
        SafetensorsWriter.Save(path, layout, i => ModuleFiles.ForSaving(targets[i].Value, options.DType), metadata);
    }

    /// <summary>The original name of every diffusers name of a ControlNet with <paramref name="config"/>, and back.</summary>
    internal static BlockTable Table(UnetLayout layout, ControlNetConfig config, string source)
    {
        if (layout.Levels != config.Encoder.BlockOutChannels.Count || layout.LayersPerBlock != config.Encoder.LayersPerBlock[0]
            || config.Encoder.LayersPerBlock.Any(l => l != layout.LayersPerBlock))
        {
            throw new CheckpointFormatException(source, $"the tensors show {layout.Levels} levels of {layout.LayersPerBlock} resnets, but the config has block_out_channels [{string.Join(", ", config.Encoder.BlockOutChannels)}] and layers_per_block [{string.Join(", ", config.Encoder.LayersPerBlock)}]");
        }

        return ControlNetKeyMap.Build(layout, config.ConditioningEmbeddingOutChannels.Count);
    }

    private static BlockTable TableFromDiffusers(IReadOnlyCollection<string> names, string source)
    {
        try
        {
            return ControlNetKeyMap.Build(UnetLayout.FromDiffusers(names), ControlNetKeyMap.EmbeddingWidthsFromDiffusers(names));
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException(source, e.Message);
        }
    }

    /// <summary>Pairs every file tensor with its model tensor, checking names and shapes before anything is read.</summary>
    private static List<(string Name, Tensor Target)> Plan(Dictionary<string, long[]> shapes, Dictionary<string, Tensor> targets,
        Func<string, string?> toDiffusers, bool allowUnknown, string path)
    {
        var plan = new List<(string, Tensor)>();
        var unknown = new List<string>();
        var problems = new List<string>();
        var filled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, shape) in shapes)
        {
            var target = toDiffusers(name);
            if (target is null || !targets.TryGetValue(target, out var tensor))
            {
                unknown.Add(name);
            }
            else if (!shape.SequenceEqual(tensor.shape))
            {
                problems.Add($"'{name}' is [{string.Join(", ", shape)}] but '{target}' of the model is [{string.Join(", ", tensor.shape)}]");
            }
            else if (filled.Add(target))
            {
                plan.Add((name, tensor));
            }
        }

        if (unknown.Count > 0 && !allowUnknown)
        {
            problems.Add($"{unknown.Count} tensor(s) match no ControlNet name: {string.Join(", ", unknown.Take(12))}{(unknown.Count > 12 ? ", ..." : "")}");
        }

        var missing = targets.Keys.Where(n => !filled.Contains(n)).ToList();
        if (missing.Count > 0)
        {
            problems.Add($"{missing.Count} model tensor(s) have no source: {string.Join(", ", missing.Take(12))}{(missing.Count > 12 ? ", ..." : "")}");
        }

        return problems.Count == 0 ? plan : throw new CheckpointFormatException(path, $"cannot load the ControlNet: {string.Join("; ", problems)}.");
    }
}
