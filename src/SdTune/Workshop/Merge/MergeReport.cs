using System.Globalization;
using SdTune.Models;

namespace SdTune.Workshop.Merge;

/// <summary>What a checkpoint merge wrote, and what it could not merge.</summary>
public sealed record MergeReport
{
    /// <summary>The file written.</summary>
    public required string Output { get; init; }

    /// <summary>The family of the models.</summary>
    public required SdArchitecture Architecture { get; init; }

    /// <summary>The α of every block and the base α.</summary>
    public required MergeBlockWeights Weights { get; init; }

    /// <summary>Tensors written.</summary>
    public int Tensors { get; init; }

    /// <summary>Tensors computed from A, B (and C).</summary>
    public int Merged { get; init; }

    /// <summary>Tensors copied from A by rule: integer tensors, noise-schedule buffers and other keys outside the
    /// UNet, text encoders and VAE, and the components asked to come from A.</summary>
    public int CopiedFromA { get; init; }

    /// <summary>Keys that would be merged but are missing from B or C: kept as A has them.</summary>
    public IReadOnlyList<string> OnlyInA { get; init; } = [];

    /// <summary>UNet, text-encoder and VAE keys of B or C that A lacks: left out (the result has A's keys).</summary>
    public int NotInA { get; init; }

    /// <summary>Keys left out because they match the discard pattern.</summary>
    public int Discarded { get; init; }

    /// <summary>VAE tensors replaced by the baked-in VAE's.</summary>
    public int BakedVae { get; init; }

    /// <summary>A is an inpainting or instruct-pix2pix model and only the input convolution's first channels were merged.</summary>
    public bool LeadingChannelsOnly { get; init; }

    /// <summary>Size of the file written.</summary>
    public long Bytes { get; init; }

    /// <summary>What a user should know: keys only in A or only in B/C, partial channel merges.</summary>
    public IReadOnlyList<string> Warnings()
    {
        var warnings = new List<string>();
        if (OnlyInA.Count > 0)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"{OnlyInA.Count} keys are only in A (missing from B or C) and were kept from A, for example {OnlyInA[0]}"));
        }

        if (NotInA > 0)
        {
            warnings.Add(string.Create(CultureInfo.InvariantCulture, $"{NotInA} keys of B or C are not in A and were left out"));
        }

        if (LeadingChannelsOnly)
        {
            warnings.Add("A's UNet input convolution has more channels than B's (inpainting or instruct-pix2pix); only the first channels were merged");
        }

        return warnings;
    }
}
