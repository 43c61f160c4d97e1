using System.Text;

namespace SdTune.Text;

/// <summary>
/// The CLIP byte-level BPE tokenizer used by every Stable Diffusion text encoder (SD 1.x, SD 2.x, both SDXL
/// encoders), giving the same ids as OpenAI CLIP's reference tokenizer.
/// </summary>
/// <remarks>
/// <para>
/// Text goes through the reference pipeline: HTML unescaping (twice), whitespace runs collapsed to one space and
/// the ends stripped, Python-style lower-casing ('İ' becomes "i" + U+0307, a word-final 'Σ' becomes 'ς'), the
/// reference's pre-tokenising pattern (special-token literals, English contractions, letter runs, single digits,
/// runs of other symbols), then BPE of each piece's UTF-8 bytes with "&lt;/w&gt;" marking the end of the word.
/// A literal "&lt;|startoftext|&gt;" or "&lt;|endoftext|&gt;" in the text becomes the special id.
/// </para>
/// <para>
/// The reference first runs ftfy's <c>fix_text</c>; this tokenizer does not (it is the identity here). Real ftfy
/// would normalise some inputs before tokenising (NFC composition, curly quotes, ligatures such as "ﬁ",
/// full-width letters, mojibake), so for such text the ids can differ from a pipeline that has ftfy installed.
/// Named HTML references outside the HTML 4 set (such as "&amp;lpar;") are left as they are.
/// </para>
/// <para>
/// Added tokens (<see cref="AddToken"/>, for textual inversion) are found in the cleaned text before lower-casing
/// and BPE, case-sensitively, anywhere in the text (leftmost first, longest first), and each becomes one id.
/// </para>
/// <para>
/// Thread safety: encoding and decoding are safe from any number of threads, also while another thread adds a
/// token (an encode sees the added tokens either before or after the addition). The parsed vocabulary and the
/// BPE cache are immutable/shared; only <see cref="AddToken"/> changes a tokenizer, and only that instance.
/// </para>
/// </remarks>
public sealed class ClipTokenizer
{
    /// <summary>The sequence length of every Stable Diffusion text encoder (start token + 75 + end token).</summary>
    public const int DefaultMaxLength = 77;

    private static readonly Lazy<ClipVocabulary> EmbeddedVocabulary = new(OriginalBpeVocabularyFile.ReadEmbedded, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly ClipVocabulary _vocabulary;
    private readonly Lock _addGate = new();
    private volatile AddedTokenSet _added;

    private ClipTokenizer(ClipVocabulary vocabulary, int bosTokenId, int eosTokenId, ClipPadding padding, AddedTokenSet added)
    {
        _vocabulary = vocabulary;
        BosTokenId = bosTokenId;
        EosTokenId = eosTokenId;
        Padding = padding;
        _added = added;
    }

    /// <summary>Id of the start-of-text token "&lt;|startoftext|&gt;" (49406 in the CLIP vocabulary).</summary>
    public int BosTokenId { get; }

    /// <summary>Id of the end-of-text token "&lt;|endoftext|&gt;" (49407 in the CLIP vocabulary).</summary>
    public int EosTokenId { get; }

    /// <summary>Number of ids: the base vocabulary (49408 for CLIP) plus the added tokens.</summary>
    public int VocabSize => _vocabulary.Count + _added.Count;

    /// <summary>The padding <see cref="EncodeForModel"/> uses when none is given: <see cref="ClipPadding.EndToken"/>
    /// unless the tokenizer folder's <c>pad_token</c> is id 0 ("!", SDXL's second tokenizer).</summary>
    public ClipPadding Padding { get; }

    /// <summary>The added tokens, in id order; the first has id <see cref="VocabSize"/> minus their count.</summary>
    public IReadOnlyList<string> AddedTokens => _added.Tokens;

    /// <summary>
    /// A tokenizer over OpenAI CLIP's own vocabulary (<c>bpe_simple_vocab_16e6.txt.gz</c>, embedded in this library).
    /// The vocabulary is parsed once, on first use, and shared; each call returns a new tokenizer, so tokens added
    /// to one never show up in another.
    /// </summary>
    public static ClipTokenizer CreateDefault() => Create(EmbeddedVocabulary.Value);

    /// <summary>
    /// As <see cref="CreateDefault()"/>, padding with <paramref name="padding"/> by default: what a pipeline whose
    /// tokenizer files are absent needs (SD 2.x and SDXL's second tokenizer pad with id 0).
    /// </summary>
    /// <param name="padding">The tokenizer's default padding.</param>
    public static ClipTokenizer CreateDefault(ClipPadding padding)
    {
        var vocabulary = EmbeddedVocabulary.Value;
        return new(vocabulary, vocabulary.StartOfTextId, vocabulary.EndOfTextId, padding, AddedTokenSet.Empty(vocabulary.Count));
    }

    /// <summary>Loads a vocabulary in OpenAI CLIP's format (<c>bpe_simple_vocab_16e6.txt</c>, gzip-compressed or not).</summary>
    /// <param name="path">The vocabulary file.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is malformed; the message names the file and line.</exception>
    public static ClipTokenizer FromBpeVocabularyFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Create(OriginalBpeVocabularyFile.ReadFile(path));
    }

    /// <summary>
    /// Loads a transformers/diffusers tokenizer folder (<c>tokenizer/</c> or <c>tokenizer_2/</c> of a pipeline):
    /// <c>vocab.json</c> and <c>merges.txt</c>, and when present <c>special_tokens_map.json</c>,
    /// <c>tokenizer_config.json</c> (special tokens, <c>added_tokens_decoder</c>) and <c>added_tokens.json</c>.
    /// </summary>
    /// <param name="folder">The folder holding the files.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">vocab.json or merges.txt is missing.</exception>
    /// <exception cref="InvalidDataException">A file is malformed; the message names the file and, where it has one, the line.</exception>
    public static ClipTokenizer FromTransformersFolder(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var content = TransformersTokenizerFolder.Read(folder);
        var tokenizer = new ClipTokenizer(content.Vocabulary, content.BosTokenId, content.EosTokenId, content.Padding, AddedTokenSet.Empty(content.Vocabulary.Count));
        foreach (var (token, source) in content.AddedTokens)
        {
            try
            {
                tokenizer.AddToken(token);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidDataException($"{source}: {ex.Message}", ex);
            }
        }

        return tokenizer;
    }

    /// <summary>
    /// Writes this tokenizer as a transformers <c>CLIPTokenizer</c> folder: <c>vocab.json</c>, <c>merges.txt</c>,
    /// <c>special_tokens_map.json</c>, <c>tokenizer_config.json</c>, and <c>added_tokens.json</c> when tokens were added
    /// (an old one is removed otherwise). <see cref="FromTransformersFolder"/> reads it back.
    /// </summary>
    /// <param name="folder">The folder to write (created if needed; existing files of those names are replaced).</param>
    public void SaveTo(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var pad = Padding == ClipPadding.Zero ? _vocabulary.GetToken(0) : _vocabulary.GetToken(EosTokenId);
        TransformersTokenizerFolder.Write(folder, _vocabulary, _vocabulary.GetToken(BosTokenId), _vocabulary.GetToken(EosTokenId), pad, _added.Tokens);
    }

    /// <summary>A copy with the same vocabulary and added tokens; tokens added to the copy do not affect this one.</summary>
    public ClipTokenizer Clone() => new(_vocabulary, BosTokenId, EosTokenId, Padding, _added);

    /// <summary>Encodes <paramref name="text"/> to token ids, without start/end tokens and without truncation.</summary>
    /// <param name="text">The prompt or caption.</param>
    /// <returns>The ids; empty for empty or all-whitespace text.</returns>
    public IReadOnlyList<int> Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var cleaned = ClipTextCleaner.Clean(text);
        var ids = new List<int>(cleaned.Length / 3 + 4);
        var pieces = new List<string>();
        var added = _added;
        var position = 0;
        while (added.TryFindNext(cleaned, position, out var start, out var length, out var addedId))
        {
            EncodeSegment(cleaned[position..start], ids, pieces);
            ids.Add(addedId);
            position = start + length;
        }

        EncodeSegment(cleaned[position..], ids, pieces);
        return ids.ToArray();
    }

    /// <summary>
    /// Encodes <paramref name="text"/> for a CLIP text encoder: start token, the text's tokens (cut to
    /// <paramref name="maxLength"/> - 2 if longer, so the end token is always last), end token, then padding
    /// to exactly <paramref name="maxLength"/> ids.
    /// </summary>
    /// <param name="text">The prompt or caption.</param>
    /// <param name="maxLength">The encoder's sequence length (77 for every Stable Diffusion model); at least 2.</param>
    /// <param name="padding">What fills the rest; <see cref="Padding"/> when null.</param>
    public TokenizedText EncodeForModel(string text, int maxLength = DefaultMaxLength, ClipPadding? padding = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);
        var ids = Encode(text);
        var kept = Math.Min(ids.Count, maxLength - 2);
        var result = new int[maxLength];
        result[0] = BosTokenId;
        for (var k = 0; k < kept; k++)
        {
            result[k + 1] = ids[k];
        }

        result[kept + 1] = EosTokenId;
        var padId = (padding ?? Padding) switch
        {
            ClipPadding.EndToken => EosTokenId,
            ClipPadding.Zero => 0,
            var other => throw new ArgumentOutOfRangeException(nameof(padding), other, "Unknown padding."),
        };
        Array.Fill(result, padId, kept + 2, maxLength - kept - 2);
        return new TokenizedText(result, kept + 2, ids.Count > kept);
    }

    /// <summary>
    /// Turns ids back into text the way the reference does: the bytes of all tokens joined, decoded as UTF-8
    /// (invalid sequences become U+FFFD), and every "&lt;/w&gt;" replaced by a space (so the text usually ends
    /// with one). Added tokens come out as themselves followed by a space.
    /// </summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="skipSpecialTokens">Leave out the start and end tokens (and so end-token padding; zero padding
    /// is id 0, "!", and stays: decode only the first <see cref="TokenizedText.Length"/> ids of padded input).</param>
    /// <exception cref="ArgumentOutOfRangeException">An id is negative or not below <see cref="VocabSize"/>.</exception>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var added = _added;
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            if (id < 0 || id >= _vocabulary.Count + added.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the vocabulary (ids 0..{_vocabulary.Count + added.Count - 1}).");
            }

            if (skipSpecialTokens && (id == BosTokenId || id == EosTokenId))
            {
                continue;
            }

            if (id < _vocabulary.Count)
            {
                _vocabulary.AppendTokenBytes(id, bytes);
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(added.GetToken(id)));
                bytes.AddRange("</w>"u8);
            }
        }

        return Encoding.UTF8.GetString([.. bytes]).Replace(ClipVocabulary.EndOfWordSuffix, " ", StringComparison.Ordinal);
    }

    /// <summary>The token string of <paramref name="id"/>: a vocabulary entry in byte-level form (word-final
    /// ones end in "&lt;/w&gt;", e.g. "cat&lt;/w&gt;"), or an added token as it was added.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The id is negative or not below <see cref="VocabSize"/>.</exception>
    public string GetToken(int id)
    {
        var added = _added;
        if (id < 0 || id >= _vocabulary.Count + added.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is outside the vocabulary (ids 0..{_vocabulary.Count + added.Count - 1}).");
        }

        return id < _vocabulary.Count ? _vocabulary.GetToken(id) : added.GetToken(id);
    }

    /// <summary>Looks up the id of a token string: a vocabulary entry in byte-level form ("cat&lt;/w&gt;") or an added token.</summary>
    /// <param name="token">The token string.</param>
    /// <param name="id">Its id, when found.</param>
    /// <returns>True when the tokenizer has that token.</returns>
    public bool TryGetTokenId(string token, out int id)
    {
        ArgumentNullException.ThrowIfNull(token);
        return _vocabulary.TryGetId(token, out id) || _added.TryGetId(token, out id);
    }

    /// <summary>
    /// Adds a token that is then matched in text as one unit (a textual-inversion placeholder such as "&lt;s0&gt;"
    /// or "sks-token") and returns its id, the current <see cref="VocabSize"/>; the vocabulary grows by one.
    /// Matching is case-sensitive and happens before lower-casing, anywhere in the text.
    /// </summary>
    /// <param name="token">The token text.</param>
    /// <returns>The new id.</returns>
    /// <exception cref="ArgumentException">The token is empty, could never match (leading, trailing or repeated
    /// whitespace, or an HTML character reference, which prompts lose in cleanup), or the tokenizer already has it.</exception>
    public int AddToken(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (token.Length == 0)
        {
            throw new ArgumentException("An added token must not be empty.", nameof(token));
        }

        if (!string.Equals(ClipTextCleaner.Clean(token), token, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"The token \"{token}\" could never match: prompts are HTML-unescaped and their whitespace collapsed before added tokens are searched; "
                + "use a token without leading, trailing or repeated whitespace and without '&...;' references.",
                nameof(token));
        }

        lock (_addGate)
        {
            if (TryGetTokenId(token, out var existing))
            {
                throw new ArgumentException(
                    $"The tokenizer already contains the token \"{token}\" (id {existing}); choose a different placeholder token.", nameof(token));
            }

            var added = _added;
            _added = added.With(token);
            return _vocabulary.Count + added.Count;
        }
    }

    /// <summary>
    /// Removes a token added by <see cref="AddToken"/>, which must be the last one added (so the ids of the others stay
    /// as they are): a method that added placeholder tokens for a run removes them, newest first, when it ends.
    /// </summary>
    /// <param name="token">The last added token.</param>
    /// <exception cref="ArgumentException">The token is not the last added one.</exception>
    public void RemoveAddedToken(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        lock (_addGate)
        {
            var added = _added;
            if (added.Count == 0 || !string.Equals(added.Tokens[^1], token, StringComparison.Ordinal))
            {
                throw new ArgumentException($"\"{token}\" is not the last added token, so it cannot be removed.", nameof(token));
            }

            _added = added.WithoutLast();
        }
    }

    private static ClipTokenizer Create(ClipVocabulary vocabulary) =>
        new(vocabulary, vocabulary.StartOfTextId, vocabulary.EndOfTextId, ClipPadding.EndToken, AddedTokenSet.Empty(vocabulary.Count));

    private void EncodeSegment(string segment, List<int> ids, List<string> pieces)
    {
        if (segment.Length == 0)
        {
            return;
        }

        pieces.Clear();
        ClipPreTokenizer.Split(PythonLowerCase.Lower(segment), pieces);
        foreach (var piece in pieces)
        {
            _vocabulary.AppendPieceIds(piece, ids);
        }
    }
}
