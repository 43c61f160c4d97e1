namespace SdTune.Prompts;

/// <summary>
/// Cuts a prompt into 77-token text-encoder chunks the way the web UI does, independently of the tokenizer:
/// <list type="bullet">
/// <item>the text is split into weighted runs (<see cref="EmphasisParser"/>), each run tokenized without BOS/EOS and its
/// weight given to every one of its tokens;</item>
/// <item>tokens fill 75-token chunks; when a chunk is full and the last comma is at most <c>commaBacktrack</c> tokens
/// back, the tokens after that comma move to the next chunk (with their embedding fixes: the web UI leaves those
/// behind in the closed chunk, which would splice the vectors in at the wrong place);</item>
/// <item><c>BREAK</c> closes the current chunk;</item>
/// <item>a textual-inversion embedding is replaced by one placeholder token per vector, recorded as an
/// <see cref="EmbeddingFix"/>; an embedding that would not fit in the current chunk starts a new one;</item>
/// <item>each chunk is padded to 75 with EOS and wrapped as BOS + 75 + EOS, with multiplier 1.0 on BOS, EOS and padding;
/// where the model pads with a different id (OpenCLIP: 0), everything after the first EOS becomes that id.</item>
/// </list>
/// </summary>
public sealed class PromptChunker
{
    /// <summary>Prompt tokens per chunk (without BOS and EOS).</summary>
    public const int ChunkLength = 75;

    /// <summary>Tokens per chunk including BOS and EOS.</summary>
    public const int ChunkTokens = ChunkLength + 2;

    /// <summary>The web UI's default for how far back a comma may be to move the chunk's tail after it.</summary>
    public const int DefaultCommaBacktrack = 20;

    private readonly Func<string, IReadOnlyList<int>> _tokenize;
    private readonly int _bos;
    private readonly int _eos;
    private readonly int _pad;
    private readonly int? _comma;
    private readonly int _commaBacktrack;
    private readonly Func<IReadOnlyList<int>, int, EmbeddingMatch?>? _findEmbedding;
    private readonly int _placeholder;

    /// <summary>Creates a chunker for one tokenizer.</summary>
    /// <param name="tokenize">Turns text into token ids, without BOS/EOS and without truncation.</param>
    /// <param name="bosId">The start-of-text token id.</param>
    /// <param name="eosId">The end-of-text token id (also the padding of SD 1.x CLIP).</param>
    /// <param name="padId">The padding id when it differs from EOS (OpenCLIP uses 0); null to pad with EOS.</param>
    /// <param name="commaId">The id of the comma token, for comma backtracking; null to disable it.</param>
    /// <param name="commaBacktrack">How many tokens back a comma may be to move the tail after it (0 disables).</param>
    /// <param name="findEmbedding">
    /// Finds a textual-inversion embedding whose name starts at a position of a run's tokens (for example
    /// <see cref="EmbeddingTokenIndex.FindAt"/>); null when no embeddings are loaded.
    /// </param>
    /// <param name="placeholderId">The token id written where embedding vectors will be spliced in.</param>
    public PromptChunker(
        Func<string, IReadOnlyList<int>> tokenize,
        int bosId,
        int eosId,
        int? padId = null,
        int? commaId = null,
        int commaBacktrack = DefaultCommaBacktrack,
        Func<IReadOnlyList<int>, int, EmbeddingMatch?>? findEmbedding = null,
        int placeholderId = 0)
    {
        ArgumentNullException.ThrowIfNull(tokenize);
        ArgumentOutOfRangeException.ThrowIfNegative(commaBacktrack);
        _tokenize = tokenize;
        _bos = bosId;
        _eos = eosId;
        _pad = padId ?? eosId;
        _comma = commaId;
        _commaBacktrack = commaBacktrack;
        _findEmbedding = findEmbedding;
        _placeholder = placeholderId;
    }

    /// <summary>Chunks a prompt text (one scheduled text of one sub-prompt), parsing emphasis and BREAK first.</summary>
    /// <param name="text">The prompt text.</param>
    /// <returns>The chunks.</returns>
    public PromptChunks Chunk(string text) => Chunk(EmphasisParser.Parse(text));

    /// <summary>Chunks already-weighted runs (pass one run of weight 1 to treat brackets as literal text).</summary>
    /// <param name="runs">The runs, as <see cref="EmphasisParser.Parse"/> returns them.</param>
    /// <returns>The chunks.</returns>
    public PromptChunks Chunk(IReadOnlyList<WeightedText> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var builder = new Builder(this);
        foreach (var run in runs)
        {
            if (run.IsBreak)
            {
                builder.Close(isLast: false);
                continue;
            }

            var tokens = _tokenize(run.Text) ?? throw new InvalidOperationException($"The tokenizer returned null for \"{run.Text}\".");
            builder.AddRun(tokens, run.Weight);
        }

        return builder.Finish();
    }

    /// <summary>A chunk of an empty prompt (BOS, then EOS/padding), used to pad batches to the same chunk count.</summary>
    /// <returns>The chunk.</returns>
    public PromptChunk EmptyChunk()
    {
        var tokens = new int[ChunkTokens];
        Array.Fill(tokens, _eos);
        tokens[0] = _bos;
        ReplacePadding(tokens);
        var multipliers = new double[ChunkTokens];
        Array.Fill(multipliers, 1.0);
        return new PromptChunk(tokens, multipliers, []);
    }

    private void ReplacePadding(int[] tokens)
    {
        if (_pad == _eos)
        {
            return;
        }

        int firstEos = Array.IndexOf(tokens, _eos);
        for (int i = firstEos + 1; i < tokens.Length; i++)
        {
            tokens[i] = _pad;
        }
    }

    /// <summary>The state of one prompt being chunked.</summary>
    private sealed class Builder(PromptChunker owner)
    {
        private readonly List<PromptChunk> _chunks = [];
        private List<int> _tokens = [];
        private List<double> _multipliers = [];
        private List<EmbeddingFix> _fixes = [];
        private int _lastComma = -1;
        private int _tokenCount;

        public void AddRun(IReadOnlyList<int> tokens, double weight)
        {
            int position = 0;
            while (position < tokens.Count)
            {
                int token = tokens[position];
                if (token == owner._comma)
                {
                    _lastComma = _tokens.Count;
                }
                else if (owner._commaBacktrack != 0
                    && _tokens.Count == ChunkLength
                    && _lastComma != -1
                    && _tokens.Count - _lastComma <= owner._commaBacktrack)
                {
                    MoveTailAfterCommaToNextChunk();
                }

                if (_tokens.Count == ChunkLength)
                {
                    Close(isLast: false);
                }

                var embedding = owner._findEmbedding?.Invoke(tokens, position);
                if (embedding is not { } match)
                {
                    _tokens.Add(token);
                    _multipliers.Add(weight);
                    position++;
                    continue;
                }

                if (match.VectorCount > ChunkLength)
                {
                    throw new ArgumentException(
                        $"Embedding '{match.Name}' has {match.VectorCount} vectors; at most {ChunkLength} fit in one chunk.");
                }

                if (match.TokenLength < 1)
                {
                    throw new ArgumentException($"Embedding '{match.Name}' was matched with a name of {match.TokenLength} tokens.");
                }

                if (_tokens.Count + match.VectorCount > ChunkLength)
                {
                    Close(isLast: false);
                }

                _fixes.Add(new EmbeddingFix(_tokens.Count + 1, match.Name, match.VectorCount));
                for (int i = 0; i < match.VectorCount; i++)
                {
                    _tokens.Add(owner._placeholder);
                    _multipliers.Add(weight);
                }

                position += match.TokenLength;
            }
        }

        /// <summary>Closes the full chunk at its last comma; the tokens after the comma start the next chunk.</summary>
        private void MoveTailAfterCommaToNextChunk()
        {
            int cut = _lastComma + 1;
            var tailTokens = _tokens.GetRange(cut, _tokens.Count - cut);
            var tailMultipliers = _multipliers.GetRange(cut, _multipliers.Count - cut);

            // Embeddings in the tail move with their placeholder tokens (fix indices count the BOS token).
            var tailFixes = _fixes.Where(f => f.TokenIndex - 1 >= cut).Select(f => f with { TokenIndex = f.TokenIndex - cut }).ToList();
            _fixes.RemoveAll(f => f.TokenIndex - 1 >= cut);

            _tokens.RemoveRange(cut, _tokens.Count - cut);
            _multipliers.RemoveRange(cut, _multipliers.Count - cut);
            Close(isLast: false);
            _tokens = tailTokens;
            _multipliers = tailMultipliers;
            _fixes = tailFixes;
        }

        public void Close(bool isLast)
        {
            _tokenCount += isLast ? _tokens.Count : ChunkLength;
            var tokens = new int[ChunkTokens];
            var multipliers = new double[ChunkTokens];
            Array.Fill(tokens, owner._eos);
            Array.Fill(multipliers, 1.0);
            tokens[0] = owner._bos;
            for (int i = 0; i < _tokens.Count; i++)
            {
                tokens[i + 1] = _tokens[i];
                multipliers[i + 1] = _multipliers[i];
            }

            owner.ReplacePadding(tokens);
            _chunks.Add(new PromptChunk(tokens, multipliers, [.. _fixes]));
            _tokens = [];
            _multipliers = [];
            _fixes = [];
            _lastComma = -1;
        }

        public PromptChunks Finish()
        {
            if (_tokens.Count > 0 || _chunks.Count == 0)
            {
                Close(isLast: true);
            }

            return new PromptChunks(_chunks, _tokenCount);
        }
    }
}
