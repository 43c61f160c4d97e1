using System.Globalization;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>
/// The block structure of a UNet: number of resolution levels, resnets per down level, and which levels carry
/// attention. Read from the names of either layout; it is all the name mapping needs.
/// </summary>
internal sealed record UnetLayout(int Levels, int LayersPerBlock, bool[] DownAttention, bool[] UpAttention, bool MidAttention)
{
    /// <summary>Reads the layout from original names with the <c>model.diffusion_model.</c> prefix removed.</summary>
    public static UnetLayout FromOriginal(IReadOnlyCollection<string> names)
    {
        var downsamplers = new SortedSet<int>();
        var inputBlocks = new HashSet<(int Block, int Layer)>();
        var maxInput = -1;
        foreach (var name in names)
        {
            if (TryParseBlock(name, "input_blocks.", out var k, out var m, out var rest))
            {
                inputBlocks.Add((k, m));
                maxInput = Math.Max(maxInput, k);
                if (m == 0 && rest.StartsWith("op.", StringComparison.Ordinal))
                {
                    downsamplers.Add(k);
                }
            }
        }

        if (maxInput < 1)
        {
            throw new InvalidDataException("the UNet has no input_blocks.N (N >= 1) tensors, so its block structure is unknown");
        }

        // Level i holds input blocks (L+1)i+1 .. (L+1)i+L and, except the last level, the downsampler (L+1)(i+1).
        var layersPerBlock = downsamplers.Count > 0 ? downsamplers.Min - 1 : maxInput;
        var levels = downsamplers.Count + 1;
        if (layersPerBlock < 1 || downsamplers.Select((k, i) => k != (layersPerBlock + 1) * (i + 1)).Any(bad => bad))
        {
            throw new InvalidDataException(
                "the UNet downsamplers (input_blocks.N.0.op) sit at blocks " + string.Join(", ", downsamplers) +
                ", which is not a regular layout of equally many resnets per level");
        }

        var down = new bool[levels];
        var up = new bool[levels];
        for (var i = 0; i < levels; i++)
        {
            down[i] = inputBlocks.Contains(((layersPerBlock + 1) * i + 1, 1));
            var first = "output_blocks." + ((layersPerBlock + 1) * i).ToString(CultureInfo.InvariantCulture) + ".1.";
            up[i] = names.Any(n => n.StartsWith(first, StringComparison.Ordinal) && !n.StartsWith(first + "conv.", StringComparison.Ordinal));
        }

        var mid = names.Any(n => n.StartsWith("middle_block.2.", StringComparison.Ordinal));
        return new UnetLayout(levels, layersPerBlock, down, up, mid);
    }

    /// <summary>Reads the layout from diffusers <c>UNet2DConditionModel</c> names.</summary>
    public static UnetLayout FromDiffusers(IReadOnlyCollection<string> names)
    {
        var levels = 0;
        var layersPerBlock = 0;
        foreach (var name in names)
        {
            if (TryParseIndex(name, "down_blocks.", out var i, out var rest))
            {
                levels = Math.Max(levels, i + 1);
                if (i == 0 && TryParseIndex(rest, "resnets.", out var j, out _))
                {
                    layersPerBlock = Math.Max(layersPerBlock, j + 1);
                }
            }
        }

        if (levels == 0 || layersPerBlock == 0)
        {
            throw new InvalidDataException("the UNet has no down_blocks.N.resnets.M tensors, so its block structure is unknown");
        }

        var down = new bool[levels];
        var up = new bool[levels];
        for (var i = 0; i < levels; i++)
        {
            var level = i.ToString(CultureInfo.InvariantCulture);
            down[i] = names.Any(n => n.StartsWith("down_blocks." + level + ".attentions.", StringComparison.Ordinal));
            up[i] = names.Any(n => n.StartsWith("up_blocks." + level + ".attentions.", StringComparison.Ordinal));
        }

        var mid = names.Any(n => n.StartsWith("mid_block.attentions.", StringComparison.Ordinal));
        return new UnetLayout(levels, layersPerBlock, down, up, mid);
    }

    /// <summary>Parses <c>{prefix}K.M.rest</c>.</summary>
    internal static bool TryParseBlock(string name, string prefix, out int block, out int layer, out string rest)
    {
        layer = 0;
        rest = "";
        return TryParseIndex(name, prefix, out block, out var afterBlock) && TryParseIndex(afterBlock, "", out layer, out rest);
    }

    /// <summary>Parses <c>{prefix}K.rest</c>.</summary>
    internal static bool TryParseIndex(string name, string prefix, out int index, out string rest)
    {
        index = -1;
        rest = "";
        if (!name.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var dot = name.IndexOf('.', prefix.Length);
        if (dot < 0 || !int.TryParse(name.AsSpan(prefix.Length, dot - prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out index))
        {
            return false;
        }

        rest = name[(dot + 1)..];
        return true;
    }
}
