using System.Collections.Immutable;

namespace SdTune.Text;

/// <summary>
/// An immutable set of added tokens (textual-inversion placeholders) with consecutive ids after the base
/// vocabulary, and the search that finds them in text: leftmost match first, the longest token at that position.
/// </summary>
internal sealed class AddedTokenSet
{
    private readonly ImmutableDictionary<string, int> _ids;

    // Candidates by first character, longest first, so the first hit at a position is the longest.
    private readonly ImmutableDictionary<char, ImmutableArray<string>> _byFirstChar;

    private AddedTokenSet(int firstId, ImmutableArray<string> tokens)
    {
        FirstId = firstId;
        Tokens = tokens;
        _ids = tokens.Select((t, k) => KeyValuePair.Create(t, firstId + k)).ToImmutableDictionary(StringComparer.Ordinal);
        _byFirstChar = tokens.GroupBy(t => t[0])
            .ToImmutableDictionary(g => g.Key, g => g.OrderByDescending(t => t.Length).ToImmutableArray());
    }

    /// <summary>An empty set whose first token will get <paramref name="firstId"/>.</summary>
    public static AddedTokenSet Empty(int firstId) => new(firstId, []);

    /// <summary>The id of the first added token (the base vocabulary size).</summary>
    public int FirstId { get; }

    /// <summary>The added tokens in id order.</summary>
    public ImmutableArray<string> Tokens { get; }

    /// <summary>Number of added tokens.</summary>
    public int Count => Tokens.Length;

    /// <summary>A set with <paramref name="token"/> appended (id <see cref="FirstId"/> + <see cref="Count"/>).</summary>
    public AddedTokenSet With(string token) => new(FirstId, Tokens.Add(token));

    /// <summary>A set without its last token.</summary>
    public AddedTokenSet WithoutLast() => new(FirstId, Tokens.RemoveAt(Tokens.Length - 1));

    /// <summary>Looks up an added token.</summary>
    public bool TryGetId(string token, out int id) => _ids.TryGetValue(token, out id);

    /// <summary>The added token with id <paramref name="id"/>.</summary>
    public string GetToken(int id) => Tokens[id - FirstId];

    /// <summary>Finds the first added token in <paramref name="text"/> at or after <paramref name="from"/>.</summary>
    public bool TryFindNext(string text, int from, out int start, out int length, out int id)
    {
        if (Count > 0)
        {
            for (var i = from; i < text.Length; i++)
            {
                if (!_byFirstChar.TryGetValue(text[i], out var candidates))
                {
                    continue;
                }

                foreach (var token in candidates)
                {
                    if (text.AsSpan(i).StartsWith(token, StringComparison.Ordinal))
                    {
                        start = i;
                        length = token.Length;
                        id = _ids[token];
                        return true;
                    }
                }
            }
        }

        start = length = id = 0;
        return false;
    }
}
