using SdTune.IO;
using SdTune.Models;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>
/// The name-level plan of a conversion between an original single-file checkpoint and the diffusers/transformers
/// layouts, computed from names and shapes alone. <see cref="KeyConversionExecutor"/> turns each row into a tensor
/// when it is needed, so a caller can stream a large file tensor by tensor.
/// </summary>
public sealed class SingleFileConversionPlan
{
    private const int MaxNamesInMessage = 20;

    internal SingleFileConversionPlan(SdArchitecture architecture, IReadOnlyList<KeyConversion> rows, IReadOnlyList<IgnoredKey> ignored, IReadOnlyList<string> unknown)
    {
        Architecture = architecture;
        Rows = rows;
        Ignored = ignored;
        Unknown = unknown;
    }

    /// <summary>The family the plan was made for.</summary>
    public SdArchitecture Architecture { get; }

    /// <summary>One row per produced tensor, in the order of the sources.</summary>
    public IReadOnlyList<KeyConversion> Rows { get; }

    /// <summary>Source tensors deliberately not converted (schedule buffers, EMA copies, unused layers), with the reason.</summary>
    public IReadOnlyList<IgnoredKey> Ignored { get; }

    /// <summary>
    /// Source tensors no rule covers, by name (for a diffusers-to-original plan prefixed with the component, e.g.
    /// <c>unet:foo.weight</c>). Not converted; see <see cref="EnsureNoUnknown"/>.
    /// </summary>
    public IReadOnlyList<string> Unknown { get; }

    /// <summary>The rows whose diffusers-side model is <paramref name="component"/>.</summary>
    public IEnumerable<KeyConversion> RowsOf(SdComponent component) => Rows.Where(r => r.Component == component);

    /// <summary>Throws when some source tensor is covered by no rule, naming them.</summary>
    /// <param name="source">The file or folder being converted, for the message.</param>
    /// <exception cref="CheckpointFormatException">There are unknown tensors.</exception>
    public void EnsureNoUnknown(string source)
    {
        if (Unknown.Count > 0)
        {
            var shown = string.Join(", ", Unknown.Take(MaxNamesInMessage).Select(n => "'" + n + "'"));
            var more = Unknown.Count > MaxNamesInMessage ? $" and {Unknown.Count - MaxNamesInMessage} more" : "";
            throw new CheckpointFormatException(source, $"{Unknown.Count} tensor(s) match no {Architecture} conversion rule: {shown}{more}");
        }
    }

    /// <summary>Plans the conversion of an original single-file checkpoint into diffusers/transformers names.</summary>
    /// <param name="shapes">Every tensor name of the file with its shape, in file order.</param>
    /// <param name="detection">The result of <see cref="SingleFileInspector.Detect(IReadOnlyDictionary{string, long[]}, IReadOnlyDictionary{string, string}?, string)"/>.</param>
    /// <param name="source">The file name, for error messages.</param>
    /// <exception cref="CheckpointFormatException">The family is not supported, or its block layout is irregular.</exception>
    public static SingleFileConversionPlan ToDiffusers(IReadOnlyDictionary<string, long[]> shapes, SingleFileDetection detection, string source = "checkpoint")
    {
        ArgumentNullException.ThrowIfNull(shapes);
        ArgumentNullException.ThrowIfNull(detection);
        if (!detection.IsSupported)
        {
            throw new CheckpointFormatException(source, detection.UnsupportedReason!);
        }

        try
        {
            return OriginalToDiffusers.Plan(shapes, detection);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException(source, e.Message);
        }
    }

    /// <summary>
    /// Plans the conversion of diffusers/transformers models back into one original single-file checkpoint (the
    /// layout A1111 and ComfyUI load). OpenCLIP q/k/v are merged into <c>in_proj</c>, <c>text_projection</c> is
    /// transposed back, VAE attention weights become 1x1 convolutions again. Tensors of the original that no diffusers
    /// model holds are generated rows (<see cref="KeyConversionOp.Generate"/>): the noise-schedule buffers (SD 1.x/2.x),
    /// <c>denoiser.sigmas</c> (SDXL), OpenCLIP <c>logit_scale</c>, and CLIP <c>position_ids</c> when the text encoder
    /// lacks it. For SD 2.x, whose diffusers text encoder has one layer fewer than OpenCLIP ViT-H, the last OpenCLIP
    /// layer is written as a copy of the one before, plus an identity <c>text_projection</c>: SD 2.x never uses either.
    /// </summary>
    /// <param name="architecture">The family to write (SD1, SD2 or SDXL base).</param>
    /// <param name="components">Per diffusers model, its tensor names with shapes; a missing model is left out.</param>
    /// <exception cref="CheckpointFormatException">The family cannot be written, or a model's block layout is irregular.</exception>
    public static SingleFileConversionPlan ToOriginal(SdArchitecture architecture, IReadOnlyDictionary<SdComponent, IReadOnlyDictionary<string, long[]>> components)
    {
        ArgumentNullException.ThrowIfNull(components);
        if (architecture == SdArchitecture.SdxlRefiner)
        {
            throw new CheckpointFormatException("diffusers model", "writing SDXL refiner checkpoints is not supported");
        }

        try
        {
            return DiffusersToOriginal.Plan(architecture, components);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException("diffusers model", e.Message);
        }
    }
}
