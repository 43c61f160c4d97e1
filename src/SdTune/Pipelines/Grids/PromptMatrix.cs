namespace SdTune.Pipelines.Grids;

/// <summary>
/// A1111's prompt matrix: <c>a busy city street|illustration|cinematic lighting</c> is the first part, always present,
/// and each combination of the optional parts after it, 2^n prompts joined with <c>", "</c>:
/// <c>a busy city street</c>, <c>a busy city street, illustration</c>, <c>a busy city street, cinematic lighting</c>,
/// <c>a busy city street, illustration, cinematic lighting</c>. Combination i holds optional part k when bit k of i is
/// set. The first half of the optional parts (rounded up) varies across the columns, the rest down the rows, so the
/// combinations read left to right, top to bottom. Each column and row label lists its parts one per line, <c>+ part</c>
/// where the part is in the prompt and <c>- part</c> where it is not (a no-break space after the sign). Only a <c>|</c> outside brackets splits, so
/// A1111's alternation <c>[cat|dog]</c> stays in its part.
/// </summary>
public static class PromptMatrix
{
    /// <summary>The most optional parts (2^10 = 1024 pictures).</summary>
    public const int MaxOptionalParts = 10;

    /// <summary>Binds a label's sign to its part's first word, so that wrapping never leaves the sign alone on a line.</summary>
    private const char NoBreakSpace = '\u00A0';

    /// <summary>The parts of <paramref name="prompt"/>: split at each <c>|</c> outside (), [], {} and &lt;&gt;, trimmed.</summary>
    public static IReadOnlyList<string> Parts(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var parts = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < prompt.Length; i++)
        {
            switch (prompt[i])
            {
                case '\\':
                    i++;
                    break;
                case '(' or '[' or '{' or '<':
                    depth++;
                    break;
                case ')' or ']' or '}' or '>':
                    depth = Math.Max(0, depth - 1);
                    break;
                case '|' when depth == 0:
                    parts.Add(prompt[start..i].Trim());
                    start = i + 1;
                    break;
            }
        }

        parts.Add(prompt[start..].Trim());
        return parts;
    }

    /// <summary>The prompt of each combination, in combination order (bit k of the index: optional part k).</summary>
    /// <param name="prompt">The prompt with <c>|</c> between its parts.</param>
    /// <param name="variablePartsFirst">A1111's "put variable parts at start of prompt": the optional parts come before the first part.</param>
    /// <exception cref="ArgumentException">The prompt has no <c>|</c>, or more than <see cref="MaxOptionalParts"/> optional parts.</exception>
    public static IReadOnlyList<string> Prompts(string prompt, bool variablePartsFirst = false)
    {
        var parts = Parts(prompt);
        var optional = parts.Count - 1;
        if (optional == 0)
        {
            throw new ArgumentException("--prompt-matrix: the prompt has no '|'; write the parts to combine after the first, e.g. \"a city street|illustration|cinematic lighting\".");
        }

        if (optional > MaxOptionalParts)
        {
            throw new ArgumentException($"--prompt-matrix: {optional} optional parts make {1L << Math.Min(optional, 62)} pictures; at most {MaxOptionalParts} parts ({1 << MaxOptionalParts} pictures).");
        }

        var prompts = new List<string>();
        for (var combination = 0; combination < 1 << optional; combination++)
        {
            var chosen = Enumerable.Range(0, optional).Where(k => (combination & (1 << k)) != 0).Select(k => parts[k + 1]);
            IEnumerable<string> all = variablePartsFirst ? [.. chosen, parts[0]] : [parts[0], .. chosen];
            prompts.Add(string.Join(", ", all.Where(p => p.Length > 0)));
        }

        return prompts;
    }

    /// <summary>The grid of a prompt matrix: one cell per combination, each <paramref name="baseRequest"/> with that prompt.</summary>
    /// <param name="baseRequest">The settings; its prompt holds the parts. A negative seed is drawn once for the whole grid.</param>
    /// <param name="variablePartsFirst">Put the optional parts before the first part.</param>
    /// <param name="differentSeeds">A1111's "use different seed for each picture": combination i uses seed + i; otherwise all share the seed.</param>
    /// <param name="randomSeed">Draws the seed when the request's is negative (tests pass their own).</param>
    /// <exception cref="ArgumentException">The prompt has no optional parts, or too many.</exception>
    public static GridPlan Plan(GenerationRequest baseRequest, bool variablePartsFirst = false, bool differentSeeds = false, Func<long>? randomSeed = null)
    {
        ArgumentNullException.ThrowIfNull(baseRequest);
        var prompts = Prompts(baseRequest.Prompt, variablePartsFirst);
        var optional = Parts(baseRequest.Prompt).Skip(1).ToList();
        var seed = baseRequest.Seed >= 0 ? baseRequest.Seed : (randomSeed ?? GridSeeds.Random)();
        var columnParts = (optional.Count + 1) / 2;
        var columns = 1 << columnParts;
        var rows = 1 << (optional.Count - columnParts);
        var cells = prompts.Select((p, i) => new GridCell(i % columns, i / columns, 0, baseRequest with
        {
            Prompt = p,
            Seed = differentSeeds ? seed + i : seed,
            BatchSize = 1,
        })).ToList();

        string Label(int bits, IReadOnlyList<string> names) =>
            string.Join("\n", names.Select((name, k) => ((bits & (1 << k)) != 0 ? "+" : "-") + NoBreakSpace + name));

        return new GridPlan
        {
            Cells = cells,
            Columns = columns,
            Rows = rows,
            ColumnLabels = [.. Enumerable.Range(0, columns).Select(c => Label(c, optional[..columnParts]))],
            RowLabels = rows > 1 ? [.. Enumerable.Range(0, rows).Select(r => Label(r, optional[columnParts..]))] : [],
        };
    }
}
