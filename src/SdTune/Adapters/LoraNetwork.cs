using SdTune.Adapters.Formats;
using SdTune.Models;
using SdTune.Models.Clip;
using SdTune.Models.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Adapters;

/// <summary>
/// A set of adapter modules on the layers of a UNet and text encoders, chosen by kohya's rules: in the UNet every
/// Linear/Conv2d inside a <c>Transformer2DModel</c> (with <c>conv_dim</c> also inside <c>ResnetBlock2D</c>,
/// <c>Downsample2D</c> and <c>Upsample2D</c>), in the text encoders every Linear inside CLIP attention and MLP blocks.
/// Each module is registered under kohya's name, so <c>state_dict()</c>
/// gives exactly the tensors of a kohya file. The base models' own state dicts never change: modules act through
/// forward hooks (<see cref="Attach"/>) or by merging into the weights (<see cref="Merge"/>).
/// </summary>
public sealed class LoraNetwork : nn.Module
{
    private readonly List<LoraNetworkEntry> entries;

    /// <summary>Wraps existing modules (for example read from a file).</summary>
    /// <param name="architecture">The model family the names were made for.</param>
    /// <param name="entries">The modules with unique names.</param>
    /// <param name="options">How the network was created, when it was created for training; kept for file metadata.</param>
    /// <exception cref="ArgumentException">Two modules share a name.</exception>
    public LoraNetwork(SdArchitecture architecture, IEnumerable<LoraNetworkEntry> entries, LoraNetworkOptions? options = null)
        : base(nameof(LoraNetwork))
    {
        ArgumentNullException.ThrowIfNull(entries);
        Architecture = architecture;
        Options = options;
        this.entries = [.. entries];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in this.entries)
        {
            if (!seen.Add(entry.Name))
            {
                throw new ArgumentException($"Two adapter modules are named '{entry.Name}'.", nameof(entries));
            }

            register_module(entry.Name, entry.Module);
        }
    }

    /// <summary>The model family (decides names and file metadata).</summary>
    public SdArchitecture Architecture { get; }

    /// <summary>The options the network was created with; null for networks read from files.</summary>
    public LoraNetworkOptions? Options { get; }

    /// <summary>The modules, text encoders first.</summary>
    public IReadOnlyList<LoraNetworkEntry> Entries => entries;

    /// <summary>Whether the modules' hooks are installed.</summary>
    public bool IsAttached => entries.Count > 0 && entries.All(e => e.Module.IsAttached);

    /// <summary>
    /// Creates a fresh trainable network for <paramref name="targets"/>. Parameters live on the device of the layer they
    /// adapt (the meta device for models built there), in float32.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid options; the message names the field.</exception>
    public static LoraNetwork Create(LoraTargets targets, LoraNetworkOptions options)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var algorithm = AdapterAlgorithms.Get(options.Algorithm);
        var names = new KohyaModuleNames(targets);
        var linear = new AdapterSettings(options.Dim, options.Alpha, options.Dropout, options.RankDropout, options.ModuleDropout, options.AlgorithmArguments);
        var conv = options.ConvDim is { } convDim
            ? new AdapterSettings(convDim, options.ConvAlpha ?? 1, options.Dropout, options.RankDropout, options.ModuleDropout, options.AlgorithmArguments)
            : null;
        var created = new List<LoraNetworkEntry>();
        foreach (var component in targets.Present)
        {
            var isUnet = component == LoraComponent.Unet;
            if (isUnet ? !options.TrainUnet : !options.TrainTextEncoder)
            {
                continue;
            }

            foreach (var (path, layer) in TargetLayers(targets.Get(component)!, conv is not null))
            {
                var settings = layer.IsSpatialConv ? conv : linear;
                if (settings is null)
                {
                    continue;
                }

                var module = algorithm.Create(layer, settings);
                module.Multiplier = options.Multiplier;
                created.Add(new LoraNetworkEntry(names.Name(component, path), component, path, module));
            }
        }

        return new LoraNetwork(targets.Architecture, created, options);
    }

    /// <summary>
    /// The layers kohya adapts in a model, with their paths: Linear/Conv2d inside the target blocks (transformer blocks and
    /// CLIP attention/MLP; with <paramref name="includeConvBlocks"/> also resnets and up/downsamplers).
    /// </summary>
    public static IEnumerable<(string Path, AdaptedLayer Layer)> TargetLayers(nn.Module model, bool includeConvBlocks)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var (blockPath, block) in model.named_modules())
        {
            var isTarget = block is Transformer2DModel or ClipAttention or ClipMlp
                || (includeConvBlocks && block is ResnetBlock2D or Downsample2D or Upsample2D);
            if (!isTarget)
            {
                continue;
            }

            foreach (var (childPath, child) in block.named_modules())
            {
                if (AdaptedLayer.TryCreate(child) is { } layer)
                {
                    yield return (blockPath + "." + childPath, layer);
                }
            }
        }
    }

    /// <summary>Every Linear/Conv2d of a model with its path: what files may legitimately adapt.</summary>
    public static IEnumerable<(string Path, AdaptedLayer Layer)> AllLayers(nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        foreach (var (path, module) in model.named_modules())
        {
            if (AdaptedLayer.TryCreate(module) is { } layer)
            {
                yield return (path, layer);
            }
        }
    }

    /// <summary>The trainable parameters (for the optimizer).</summary>
    public IReadOnlyList<Parameter> TrainableParameters() => [.. parameters().Where(p => p.requires_grad)];

    /// <summary>The trainable parameters of one component (text encoder and UNet usually get different learning rates).</summary>
    public IReadOnlyList<Parameter> TrainableParameters(LoraComponent component) =>
        [.. entries.Where(e => e.Component == component).SelectMany(e => e.Module.parameters()).Where(p => p.requires_grad)];

    /// <summary>Sets the multiplier of every text-encoder module and every UNet module.</summary>
    public void SetMultipliers(double textEncoder, double unet)
    {
        foreach (var entry in entries)
        {
            entry.Module.Multiplier = entry.Component == LoraComponent.Unet ? unet : textEncoder;
        }
    }

    /// <summary>Installs every module's forward hook on its layer.</summary>
    public void Attach()
    {
        foreach (var entry in entries)
        {
            entry.Module.Attach();
        }
    }

    /// <summary>Removes every hook; the models compute exactly what they did before.</summary>
    public void Detach()
    {
        foreach (var entry in entries)
        {
            entry.Module.Detach();
        }
    }

    /// <summary>Bakes every module's <c>multiplier · ΔW</c> into its layer's weight.</summary>
    public void Merge()
    {
        foreach (var entry in entries)
        {
            entry.Module.Merge();
        }
    }

    /// <summary>Subtracts what <see cref="Merge"/> added.</summary>
    public void Unmerge()
    {
        foreach (var entry in entries)
        {
            entry.Module.Unmerge();
        }
    }
}
