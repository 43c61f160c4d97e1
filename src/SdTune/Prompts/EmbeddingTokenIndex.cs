namespace SdTune.Prompts;

/// <summary>
/// Finds textual-inversion embeddings by the token ids of their names. Where several names start at the same token, the
/// longest is tried first (names of equal length in the order they were added), so <c>style-xl</c> wins over
/// <c>style</c>.
/// </summary>
public sealed class EmbeddingTokenIndex
{
    private readonly Dictionary<int, List<Entry>> _byFirstToken = [];

    /// <summary>The number of embeddings added.</summary>
    public int Count { get; private set; }

    /// <summary>Adds an embedding.</summary>
    /// <param name="name">The embedding's name.</param>
    /// <param name="nameTokens">The token ids of the name as the tokenizer splits it (at least one).</param>
    /// <param name="vectorCount">The number of vectors the embedding holds (at least one).</param>
    public void Add(string name, IReadOnlyList<int> nameTokens, int vectorCount)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(nameTokens);
        if (nameTokens.Count == 0)
        {
            throw new ArgumentException($"Embedding '{name}': its name tokenizes to no tokens.", nameof(nameTokens));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(vectorCount, 1);
        if (!_byFirstToken.TryGetValue(nameTokens[0], out var entries))
        {
            entries = [];
            _byFirstToken[nameTokens[0]] = entries;
        }

        // Keep longest first; a new entry goes after existing ones of the same length.
        int at = entries.FindIndex(e => e.Tokens.Length < nameTokens.Count);
        entries.Insert(at < 0 ? entries.Count : at, new Entry(name, [.. nameTokens], vectorCount));
        Count++;
    }

    /// <summary>The embedding whose name tokens start at <paramref name="position"/>, if any.</summary>
    /// <param name="tokens">The prompt's tokens.</param>
    /// <param name="position">The position to look at.</param>
    /// <returns>The match, or null.</returns>
    public EmbeddingMatch? FindAt(IReadOnlyList<int> tokens, int position)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (position < 0 || position >= tokens.Count || !_byFirstToken.TryGetValue(tokens[position], out var entries))
        {
            return null;
        }

        foreach (var entry in entries)
        {
            if (position + entry.Tokens.Length > tokens.Count)
            {
                continue;
            }

            bool same = true;
            for (int i = 1; i < entry.Tokens.Length && same; i++)
            {
                same = tokens[position + i] == entry.Tokens[i];
            }

            if (same)
            {
                return new EmbeddingMatch(entry.Name, entry.Tokens.Length, entry.VectorCount);
            }
        }

        return null;
    }

    private sealed record Entry(string Name, int[] Tokens, int VectorCount);
}
