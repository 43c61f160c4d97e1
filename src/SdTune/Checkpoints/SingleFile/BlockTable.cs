using System.Text.RegularExpressions;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>
/// Pairs of module prefixes (original ↔ diffusers) with a rule for the rest of the name. Built from a layout by index
/// arithmetic; used in both directions, so the forward and reverse conversions cannot drift apart.
/// </summary>
internal sealed class BlockTable
{
    private readonly Dictionary<string, (string Diffusers, SubNames Sub)> byOriginal = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Original, SubNames Sub)> byDiffusers = new(StringComparer.Ordinal);

    /// <summary>Adds a module pair; prefixes are written without the trailing dot.</summary>
    public void Add(string original, string diffusers, SubNames sub)
    {
        byOriginal.Add(original, (diffusers, sub));
        byDiffusers.Add(diffusers, (original, sub));
    }

    /// <summary>The diffusers name of an original name (component prefix removed), or null when no rule covers it.</summary>
    public string? ToDiffusers(string name) => Translate(name, byOriginal, forward: true);

    /// <summary>The original name (without component prefix) of a diffusers name, or null when no rule covers it.</summary>
    public string? ToOriginal(string name) => Translate(name, byDiffusers, forward: false);

    private static string? Translate(string name, Dictionary<string, (string, SubNames)> table, bool forward)
    {
        // Try the longest module prefix first: "input_blocks.1.0.in_layers.0.weight" -> "input_blocks.1.0".
        for (var dot = name.LastIndexOf('.'); dot > 0; dot = name.LastIndexOf('.', dot - 1))
        {
            if (table.TryGetValue(name[..dot], out var entry))
            {
                var (other, sub) = entry;
                var rest = name[(dot + 1)..];
                var mapped = forward ? sub.Forward(rest) : sub.Backward(rest);
                return mapped is null ? null : other + "." + mapped;
            }
        }

        return null;
    }
}

/// <summary>How the names inside a module translate (the part after the module prefix).</summary>
internal abstract class SubNames
{
    /// <summary>Only <c>weight</c> and <c>bias</c>, unchanged.</summary>
    public static readonly SubNames Leaf = new RenamedSubNames([("", "")]);

    /// <summary>Original rest → diffusers rest, or null when not a name of this module.</summary>
    public abstract string? Forward(string rest);

    /// <summary>Diffusers rest → original rest, or null when not a name of this module.</summary>
    public abstract string? Backward(string rest);

    protected static bool IsLeaf(string s) => s is "weight" or "bias";
}

/// <summary>Named sub-modules renamed one to one, each holding a weight and/or a bias.</summary>
internal sealed class RenamedSubNames(IReadOnlyList<(string Original, string Diffusers)> pairs) : SubNames
{
    public override string? Forward(string rest) => Map(rest, pairs.Select(p => (p.Original, p.Diffusers)));

    public override string? Backward(string rest) => Map(rest, pairs.Select(p => (p.Diffusers, p.Original)));

    private static string? Map(string rest, IEnumerable<(string From, string To)> pairs)
    {
        foreach (var (from, to) in pairs)
        {
            if (from.Length == 0)
            {
                if (IsLeaf(rest))
                {
                    return rest;
                }

                continue;
            }

            if (rest.StartsWith(from + ".", StringComparison.Ordinal) && IsLeaf(rest[(from.Length + 1)..]))
            {
                return to + rest[from.Length..];
            }
        }

        return null;
    }
}

/// <summary>Names identical in both layouts, accepted when they match a pattern (transformer blocks).</summary>
internal sealed class IdenticalSubNames(Regex pattern) : SubNames
{
    public override string? Forward(string rest) => pattern.IsMatch(rest) ? rest : null;

    public override string? Backward(string rest) => pattern.IsMatch(rest) ? rest : null;
}
