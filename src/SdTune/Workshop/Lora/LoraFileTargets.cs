using SdTune.Adapters;
using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Models.Clip;
using SdTune.Models.Unet;
using SdTune.Runtime;

namespace SdTune.Workshop.Lora;

/// <summary>
/// Full-size models of a family built on the meta device (shapes only, no memory), to map a LoRA file's keys to layers
/// without loading or allocating a checkpoint; and the family a LoRA file was made for, told from its tensor names and
/// shapes.
/// </summary>
public sealed class LoraFileTargets : IDisposable
{
    private static readonly string[] DownEndings = [".lora_down.weight", ".lora_A.weight", ".lora.down.weight", ".lora_linear_layer.down.weight", ".down.weight", ".hada_w1_b"];

    private LoraFileTargets(LoraTargets targets) => Targets = targets;

    /// <summary>The meta-device models.</summary>
    public LoraTargets Targets { get; }

    /// <summary>Builds the published layout of <paramref name="architecture"/> (SD 1.5, SD 2.1, SDXL base) on the meta device.</summary>
    /// <exception cref="ArgumentException">The SDXL refiner, which LoRA files do not target.</exception>
    public static LoraFileTargets Create(SdArchitecture architecture)
    {
        var preset = architecture switch
        {
            SdArchitecture.SD1 => StableDiffusionPresets.Sd15,
            SdArchitecture.SD2 => StableDiffusionPresets.Sd21V,
            SdArchitecture.SdxlBase => StableDiffusionPresets.SdxlBase,
            _ => throw new ArgumentException($"LoRA tools support SD 1.x, SD 2.x and SDXL base, not {architecture}.", nameof(architecture)),
        };
        return ModuleMaterializer.OnMeta(() => new LoraFileTargets(new LoraTargets(
            new UNet2DConditionModel(preset.Unet),
            new ClipTextModel(preset.TextEncoder),
            preset.TextEncoder2 is { } second ? new ClipTextModelWithProjection(second) : null)));
    }

    /// <summary>
    /// The family <paramref name="file"/> was made for: the width of a cross-attention key/value input (768 SD 1.x, 1024
    /// SD 2.x, 2048 SDXL), else SDXL's name prefixes (<c>lora_te1_</c>, <c>lora_te2_</c>, <c>text_encoder_2.</c>, the
    /// original UNet layout), else a text-encoder projection's width (768 SD 1.x, 1024 SD 2.x).
    /// </summary>
    /// <exception cref="ArgumentException">Nothing tells; the message asks for <c>--architecture</c>.</exception>
    public static SdArchitecture Detect(ITensorSource file)
    {
        ArgumentNullException.ThrowIfNull(file);
        static bool IsDown(string name) => DownEndings.Any(e => name.EndsWith(e, StringComparison.Ordinal));
        foreach (var entry in file.Entries.Where(e => IsDown(e.Name) && e.Shape.Count >= 2))
        {
            var flat = entry.Name.Replace('.', '_');
            if (flat.Contains("attn2_to_k", StringComparison.Ordinal) || flat.Contains("attn2_to_v", StringComparison.Ordinal))
            {
                switch (entry.Shape[1])
                {
                    case 768: return SdArchitecture.SD1;
                    case 1024: return SdArchitecture.SD2;
                    case 2048: return SdArchitecture.SdxlBase;
                }
            }
        }

        string[] sdxlPrefixes = ["lora_te1_", "lora_te2_", "text_encoder_2.", "lora_unet_input_blocks_", "lora_unet_middle_block_", "lora_unet_output_blocks_"];
        if (file.Entries.Any(e => sdxlPrefixes.Any(p => e.Name.StartsWith(p, StringComparison.Ordinal))))
        {
            return SdArchitecture.SdxlBase;
        }

        foreach (var entry in file.Entries.Where(e => IsDown(e.Name) && e.Shape.Count >= 2 && e.Name.Contains("q_proj", StringComparison.Ordinal)))
        {
            switch (entry.Shape[1])
            {
                case 768: return SdArchitecture.SD1;
                case 1024: return SdArchitecture.SD2;
            }
        }

        throw new ArgumentException($"{file.Path}: cannot tell which model family the LoRA is for; give --architecture sd1, sd2 or sdxl.");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Targets.Unet?.Dispose();
        Targets.TextEncoder?.Dispose();
        Targets.TextEncoder2?.Dispose();
    }
}
