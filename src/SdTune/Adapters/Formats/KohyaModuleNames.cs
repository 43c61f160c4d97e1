using SdTune.Checkpoints.SingleFile;
using SdTune.Models;

namespace SdTune.Adapters.Formats;

/// <summary>
/// Module names of adapter files, derived from our own module paths (never parsed back): kohya's
/// <c>prefix + "_" + path.Replace('.', '_')</c> with prefixes <c>lora_unet</c>, <c>lora_te</c> (SD 1.x/2.x) or
/// <c>lora_te1</c>/<c>lora_te2</c> (SDXL), where SDXL UNet paths are first translated to the original (SAI) layout as
/// sd-scripts writes them; plus, for reading, the other spellings in circulation (SAI names for SD 1.x, <c>lycoris_</c>,
/// diffusers/PEFT dotted names with <c>unet.</c>/<c>text_encoder.</c>/<c>text_encoder_2.</c>, attention-processor names).
/// </summary>
internal sealed class KohyaModuleNames
{
    private const string WeightSuffix = ".weight";
    private readonly BlockTable? unetTable;
    private readonly bool sdxl;

    public KohyaModuleNames(LoraTargets targets)
    {
        sdxl = targets.Architecture == SdArchitecture.SdxlBase;
        if (targets.Unet is { } unet)
        {
            var names = unet.named_parameters().Select(p => p.name).ToList();
            unetTable = UnetKeyMap.Build(UnetLayout.FromDiffusers(names));
        }
    }

    /// <summary>The name kohya's sd-scripts gives the module at <paramref name="path"/> of <paramref name="component"/>.</summary>
    public string Name(LoraComponent component, string path) => component switch
    {
        LoraComponent.Unet => Flatten("lora_unet", sdxl ? OriginalPath(path) ?? path : path),
        LoraComponent.TextEncoder => Flatten(sdxl ? "lora_te1" : "lora_te", path),
        LoraComponent.TextEncoder2 => Flatten("lora_te2", path),
        _ => throw new ArgumentOutOfRangeException(nameof(component)),
    };

    /// <summary>
    /// The name diffusers' <c>save_lora_weights</c> gives the module in a PEFT file: the model's prefix (<c>unet</c>,
    /// <c>text_encoder</c>, <c>text_encoder_2</c>), a dot and the diffusers module path.
    /// </summary>
    public static string PeftName(LoraComponent component, string path) => PeftAdapterMetadata.Prefix(component) + "." + path;

    /// <summary>Every module name under which files of any supported layout store the module at <paramref name="path"/>.</summary>
    public IEnumerable<string> Aliases(LoraComponent component, string path)
    {
        yield return Name(component, path);
        switch (component)
        {
            case LoraComponent.Unet:
                yield return Flatten("lora_unet", path);
                if (OriginalPath(path) is { } original)
                {
                    yield return Flatten("lora_unet", original);
                }

                yield return Flatten("lycoris", path);
                yield return "unet." + path;
                if (AttentionProcessorPath(path) is { } processor)
                {
                    yield return "unet." + processor;
                }

                break;
            case LoraComponent.TextEncoder:
                yield return Flatten("lora_te", path);
                yield return Flatten("lora_te1", path);
                yield return "text_encoder." + path;
                break;
            case LoraComponent.TextEncoder2:
                yield return "text_encoder_2." + path;
                break;
        }
    }

    /// <summary>The original (ldm/sgm) module path of a diffusers UNet module path, or null when none exists.</summary>
    public string? OriginalPath(string path)
    {
        var original = unetTable?.ToOriginal(path + WeightSuffix);
        return original is not null && original.EndsWith(WeightSuffix, StringComparison.Ordinal) ? original[..^WeightSuffix.Length] : null;
    }

    private static string Flatten(string prefix, string path) => prefix + "_" + path.Replace('.', '_');

    // Old diffusers "attn procs" files name attention projections "<attention>.processor.to_q_lora" (to_out.0 as to_out).
    private static string? AttentionProcessorPath(string path)
    {
        foreach (var (leaf, stored) in new[] { (".to_q", ".to_q"), (".to_k", ".to_k"), (".to_v", ".to_v"), (".to_out.0", ".to_out") })
        {
            if (path.EndsWith(leaf, StringComparison.Ordinal))
            {
                return path[..^leaf.Length] + ".processor" + stored + "_lora";
            }
        }

        return null;
    }
}
