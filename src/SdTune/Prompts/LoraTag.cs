using System.Globalization;

namespace SdTune.Prompts;

/// <summary>
/// A LoRA reference in a prompt: <c>&lt;lora:NAME:TE[:UNET[:DYN]]&gt;</c>, or with named arguments <c>te=</c>,
/// <c>unet=</c>, <c>dyn=</c> (a named argument overrides the positional one) and <c>lbw=</c> (block weights, as written).
/// </summary>
/// <param name="Name">The LoRA's name (file stem or alias).</param>
/// <param name="TextEncoderWeight">The multiplier for the text-encoder part; 1.0 when not written.</param>
/// <param name="UnetWeight">The multiplier for the UNet part; the text-encoder weight when not written.</param>
/// <param name="DynDim">The rank to truncate a dynamic LoRA to; null when not written.</param>
/// <param name="BlockWeights">The <c>lbw=</c> block-weight text (a preset name or comma-separated weights); null when absent.</param>
public sealed record LoraTag(string Name, double TextEncoderWeight, double UnetWeight, int? DynDim, string? BlockWeights)
{
    /// <summary>The tag kind that names a LoRA.</summary>
    public const string Kind = "lora";

    /// <summary>The tag kind the built-in LoRA support accepts as an alias of <see cref="Kind"/>.</summary>
    public const string AliasKind = "lyco";

    /// <summary>Whether a tag is a LoRA tag (<c>lora</c> or <c>lyco</c>).</summary>
    /// <param name="tag">The tag.</param>
    /// <returns>True for LoRA tags.</returns>
    public static bool IsLoraKind(ExtraNetworkTag tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        return tag.Kind is Kind or AliasKind;
    }

    /// <summary>Reads a LoRA tag's arguments.</summary>
    /// <param name="tag">A tag whose kind is <c>lora</c> or <c>lyco</c>.</param>
    /// <returns>The typed reference.</returns>
    /// <exception cref="PromptSyntaxException">The tag has no name, or a weight or rank is not a number.</exception>
    public static LoraTag FromTag(ExtraNetworkTag tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        if (!IsLoraKind(tag))
        {
            throw new ArgumentException($"Tag {tag} is not a LoRA tag.", nameof(tag));
        }

        if (tag.Positional.Count == 0 || tag.Name.Length == 0)
        {
            throw new PromptSyntaxException($"LoRA tag {tag} has no name.");
        }

        double te = tag.Positional.Count > 1 ? ReadWeight(tag, tag.Positional[1], "text-encoder weight") : 1.0;
        if (tag.Named.TryGetValue("te", out string? teText))
        {
            te = ReadWeight(tag, teText, "te");
        }

        double unet = tag.Positional.Count > 2 ? ReadWeight(tag, tag.Positional[2], "UNet weight") : te;
        if (tag.Named.TryGetValue("unet", out string? unetText))
        {
            unet = ReadWeight(tag, unetText, "unet");
        }

        int? dyn = tag.Positional.Count > 3 ? ReadRank(tag, tag.Positional[3]) : null;
        if (tag.Named.TryGetValue("dyn", out string? dynText))
        {
            dyn = ReadRank(tag, dynText);
        }

        string? blockWeights = tag.Named.TryGetValue("lbw", out string? lbw) ? lbw : null;
        return new LoraTag(tag.Name, te, unet, dyn, blockWeights);
    }

    private static double ReadWeight(ExtraNetworkTag tag, string text, string what)
    {
        if (!PythonText.TryParseFloat(text, out double value))
        {
            throw new PromptSyntaxException($"LoRA tag {tag}: {what} '{text}' is not a number.");
        }

        return value;
    }

    private static int ReadRank(ExtraNetworkTag tag, string text)
    {
        if (!int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value))
        {
            throw new PromptSyntaxException($"LoRA tag {tag}: dyn '{text}' is not an integer rank.");
        }

        if (value < 1)
        {
            throw new PromptSyntaxException($"LoRA tag {tag}: dyn {value} must be a positive rank.");
        }

        return value;
    }
}
