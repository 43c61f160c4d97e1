namespace SdTune.Options;

/// <summary>
/// "Did you mean …?" for misspelt option names: the valid names nearest to the one given, by edit distance
/// (insertions, deletions, substitutions and swaps of neighbouring letters each count 1).
/// </summary>
internal static class NearestNames
{
    /// <summary>
    /// The names of <paramref name="valid"/> nearest to <paramref name="name"/> (all those at the smallest distance),
    /// when that distance is small for the name's length (at most a third of it, and at least 1 is always allowed);
    /// names containing the given one, or contained in it, count as near too. Empty when nothing is close.
    /// </summary>
    public static IReadOnlyList<string> Find(string name, IEnumerable<string> valid)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(valid);
        var limit = Math.Max(1, name.Length / 3);
        var scored = valid
            .Select(v => (Name: v, Distance: Distance(name, v)))
            .Where(s => s.Distance <= limit || (name.Length >= 3 && (s.Name.Contains(name, StringComparison.Ordinal) || name.Contains(s.Name, StringComparison.Ordinal))))
            .ToList();
        if (scored.Count == 0)
        {
            return [];
        }

        var best = scored.Min(s => s.Distance);
        return [.. scored.Where(s => s.Distance == best).Select(s => s.Name)];
    }

    /// <summary>"did you mean a or b?", or null when nothing is near.</summary>
    public static string? Suggestion(string name, IEnumerable<string> valid)
    {
        var near = Find(name, valid);
        return near.Count == 0 ? null : $"did you mean {string.Join(" or ", near)}?";
    }

    /// <summary>The optimal-string-alignment distance between two names.</summary>
    public static int Distance(string a, string b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
