using System.Collections.Concurrent;
using System.Text;

namespace SdTune.Text;

/// <summary>One line of a merges list: merge <see cref="Left"/> and <see cref="Right"/>; <see cref="Line"/> locates it in its file.</summary>
internal readonly record struct BpeMerge(string Left, string Right, int Line);

/// <summary>
/// The immutable part of a CLIP tokenizer: the token strings and their ids, the ranked merges, and the byte-pair
/// encoding of single pre-tokenised pieces (with a cache shared by every tokenizer built on this vocabulary).
/// </summary>
internal sealed class ClipVocabulary
{
    /// <summary>Appended to the last symbol of every word.</summary>
    public const string EndOfWordSuffix = "</w>";

    // Bounds the memory a long-running process spends on cached words; later words are encoded uncached.
    private const int MaxCachedPieces = 100_000;

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<long, int> _mergeRanks;
    private readonly (int Left, int Right, int Merged)[] _merges;
    private readonly int[] _byteIds = new int[256];
    private readonly int[] _byteEndIds = new int[256];
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    /// <summary>Builds and validates a vocabulary; errors name <paramref name="vocabSource"/> or <paramref name="mergesSource"/> and the line.</summary>
    /// <param name="tokens">Token strings in id order (id = index).</param>
    /// <param name="merges">Merges in rank order (rank 0 merges first).</param>
    /// <param name="vocabSource">Where the tokens came from, for error messages.</param>
    /// <param name="mergesSource">Where the merges came from, for error messages.</param>
    public ClipVocabulary(IReadOnlyList<string> tokens, IReadOnlyList<BpeMerge> merges, string vocabSource, string mergesSource)
    {
        _tokens = [.. tokens];
        _ids = new Dictionary<string, int>(_tokens.Length, StringComparer.Ordinal);
        for (var id = 0; id < _tokens.Length; id++)
        {
            if (!_ids.TryAdd(_tokens[id], id))
            {
                throw new InvalidDataException($"{vocabSource}: token \"{_tokens[id]}\" has two ids, {_ids[_tokens[id]]} and {id}.");
            }
        }

        foreach (var b in ByteLevelAlphabet.VocabularyOrder)
        {
            var symbol = ByteLevelAlphabet.ToChar(b).ToString();
            _byteIds[b] = RequireToken(symbol, vocabSource, $"the byte-level symbol for byte 0x{b:X2}");
            _byteEndIds[b] = RequireToken(symbol + EndOfWordSuffix, vocabSource, $"the word-final symbol for byte 0x{b:X2}");
        }

        StartOfTextId = RequireToken(ClipPreTokenizer.StartOfText, vocabSource, "the start-of-text token");
        EndOfTextId = RequireToken(ClipPreTokenizer.EndOfText, vocabSource, "the end-of-text token");
        _cache[ClipPreTokenizer.StartOfText] = [StartOfTextId];
        _cache[ClipPreTokenizer.EndOfText] = [EndOfTextId];

        _merges = new (int, int, int)[merges.Count];
        _mergeRanks = new Dictionary<long, int>(merges.Count);
        for (var rank = 0; rank < merges.Count; rank++)
        {
            var merge = merges[rank];
            var left = MergePart(merge, merge.Left, mergesSource, vocabSource);
            var right = MergePart(merge, merge.Right, mergesSource, vocabSource);
            var merged = MergePart(merge, merge.Left + merge.Right, mergesSource, vocabSource);
            if (!_mergeRanks.TryAdd(PairKey(left, right), rank))
            {
                throw new InvalidDataException($"{mergesSource}:{merge.Line}: the merge \"{merge.Left} {merge.Right}\" appears twice.");
            }

            _merges[rank] = (left, right, merged);
        }
    }

    /// <summary>Number of tokens.</summary>
    public int Count => _tokens.Length;

    /// <summary>Id of "&lt;|startoftext|&gt;".</summary>
    public int StartOfTextId { get; }

    /// <summary>Id of "&lt;|endoftext|&gt;".</summary>
    public int EndOfTextId { get; }

    /// <summary>The token strings, in id order.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>The merges as token pairs, in rank order.</summary>
    public IEnumerable<(string Left, string Right)> Merges => _merges.Select(m => (_tokens[m.Left], _tokens[m.Right]));

    /// <summary>Looks up a token string.</summary>
    public bool TryGetId(string token, out int id) => _ids.TryGetValue(token, out id);

    /// <summary>The token string of <paramref name="id"/> (0 &lt;= id &lt; <see cref="Count"/>).</summary>
    public string GetToken(int id) => _tokens[id];

    /// <summary>Appends the ids of one pre-tokenised piece (already cleaned and lower-cased) to <paramref name="output"/>.</summary>
    public void AppendPieceIds(string piece, List<int> output)
    {
        if (!_cache.TryGetValue(piece, out var ids))
        {
            ids = Encode(piece);
            if (_cache.Count < MaxCachedPieces)
            {
                _cache.TryAdd(piece, ids);
            }
        }

        output.AddRange(ids);
    }

    /// <summary>Appends the bytes that token <paramref name="id"/> stands for, with "&lt;/w&gt;" kept as text.</summary>
    public void AppendTokenBytes(int id, List<byte> output)
    {
        foreach (var symbol in _tokens[id])
        {
            if (ByteLevelAlphabet.TryGetByte(symbol, out var b))
            {
                output.Add(b);
            }
            else
            {
                // Not a byte-level symbol (only possible in a hand-made vocabulary): keep its UTF-8 form.
                output.AddRange(Encoding.UTF8.GetBytes(symbol.ToString()));
            }
        }
    }

    /// <summary>Byte-pair encodes one piece: its UTF-8 bytes as symbols (the last one word-final), then the
    /// lowest-ranked adjacent pair merged everywhere, left to right, until no adjacent pair has a merge.</summary>
    private int[] Encode(string piece)
    {
        var bytes = Encoding.UTF8.GetBytes(piece);
        var symbols = new int[bytes.Length];
        for (var k = 0; k < bytes.Length; k++)
        {
            symbols[k] = k == bytes.Length - 1 ? _byteEndIds[bytes[k]] : _byteIds[bytes[k]];
        }

        var length = symbols.Length;
        while (length > 1)
        {
            var bestRank = int.MaxValue;
            for (var k = 0; k + 1 < length; k++)
            {
                if (_mergeRanks.TryGetValue(PairKey(symbols[k], symbols[k + 1]), out var rank) && rank < bestRank)
                {
                    bestRank = rank;
                }
            }

            if (bestRank == int.MaxValue)
            {
                break;
            }

            var (left, right, merged) = _merges[bestRank];
            var write = 0;
            for (var read = 0; read < length; read++)
            {
                if (symbols[read] == left && read + 1 < length && symbols[read + 1] == right)
                {
                    symbols[write++] = merged;
                    read++;
                }
                else
                {
                    symbols[write++] = symbols[read];
                }
            }

            length = write;
        }

        return symbols.AsSpan(0, length).ToArray();
    }

    private static long PairKey(int left, int right) => ((long)left << 32) | (uint)right;

    private int RequireToken(string token, string source, string what) =>
        _ids.TryGetValue(token, out var id)
            ? id
            : throw new InvalidDataException($"{source}: no entry for {what}, \"{token}\"; this is not a CLIP byte-level BPE vocabulary.");

    private int MergePart(BpeMerge merge, string token, string mergesSource, string vocabSource) =>
        _ids.TryGetValue(token, out var id)
            ? id
            : throw new InvalidDataException(
                $"{mergesSource}:{merge.Line}: the merge \"{merge.Left} {merge.Right}\" uses or makes \"{token}\", which is not in {vocabSource}.");
}
