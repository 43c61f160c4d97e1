using SdTune.Prompts;

namespace SdTune.Tests.Prompts;

public class PromptChunkerTests
{
    private const int Bos = 1000;
    private const int Eos = 1001;
    private const int Comma = 999;
    private const int BreakWord = 998;

    /// <summary>
    /// A word-level stand-in tokenizer: words split on whitespace, "," is a token of its own, "wN" is token N, a few
    /// named words have fixed ids.
    /// </summary>
    private static IReadOnlyList<int> Tokenize(string text)
    {
        var ids = new List<int>();
        foreach (string word in text.Replace(",", " , ", StringComparison.Ordinal).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            ids.Add(word switch
            {
                "," => Comma,
                "BREAK" => BreakWord,
                "emb" => 500,
                "my" => 501,
                "style" => 502,
                _ when word[0] == 'w' && int.TryParse(word.AsSpan(1), out int n) => n,
                _ => throw new ArgumentException($"test tokenizer does not know '{word}'"),
            });
        }

        return ids;
    }

    private static PromptChunker Chunker(
        int? padId = null, int backtrack = PromptChunker.DefaultCommaBacktrack, EmbeddingTokenIndex? embeddings = null) =>
        new(Tokenize, Bos, Eos, padId, Comma, backtrack, embeddings is null ? null : embeddings.FindAt);

    private static string Words(int from, int to) => string.Join(' ', Enumerable.Range(from, to - from + 1).Select(i => $"w{i}"));

    /// <summary>The chunk's prompt tokens: BOS and everything from the first EOS on removed (checks the wrapping).</summary>
    private static int[] Body(PromptChunk chunk)
    {
        Assert.Equal(PromptChunker.ChunkTokens, chunk.Tokens.Count);
        Assert.Equal(PromptChunker.ChunkTokens, chunk.Multipliers.Count);
        Assert.Equal(Bos, chunk.Tokens[0]);
        Assert.Equal(Eos, chunk.Tokens[^1]);
        int end = chunk.Tokens.Skip(1).ToList().IndexOf(Eos) + 1;
        Assert.All(chunk.Tokens.Skip(end), t => Assert.Equal(Eos, t));
        Assert.All(chunk.Multipliers.Skip(end), m => Assert.Equal(1.0, m));
        Assert.Equal(1.0, chunk.Multipliers[0]);
        return [.. chunk.Tokens.Skip(1).Take(end - 1)];
    }

    [Fact]
    public void A_short_prompt_is_one_wrapped_chunk()
    {
        var result = Chunker().Chunk("w1 w2 w3");
        var chunk = Assert.Single(result.Chunks);
        Assert.Equal([1, 2, 3], Body(chunk));
        Assert.Equal(Enumerable.Repeat(1.0, 77), chunk.Multipliers);
        Assert.Equal(3, result.TokenCount);
    }

    [Fact]
    public void An_empty_prompt_is_one_chunk_of_padding()
    {
        var result = Chunker().Chunk("");
        var chunk = Assert.Single(result.Chunks);
        Assert.Empty(Body(chunk));
        Assert.Equal(0, result.TokenCount);
        Assert.Equal(chunk.Tokens, Chunker().EmptyChunk().Tokens);
    }

    [Fact]
    public void Each_token_gets_the_weight_of_its_run()
    {
        var chunk = Chunker().Chunk("w1 (w2 w3:1.5) [w4] ((w5))").Chunks.Single();
        Assert.Equal([1, 2, 3, 4, 5], Body(chunk));
        Assert.Equal([1.0, 1.0, 1.5, 1.5, 1 / 1.1, 1.1 * 1.1, 1.0], chunk.Multipliers.Take(7));
    }

    [Theory]
    [InlineData(75, 1, 75)]
    [InlineData(76, 2, 76)]
    [InlineData(80, 2, 80)]
    [InlineData(150, 2, 150)]
    [InlineData(151, 3, 151)]
    public void Long_prompts_fill_75_token_chunks(int words, int chunks, int tokenCount)
    {
        var result = Chunker().Chunk(Words(1, words));
        Assert.Equal(chunks, result.Chunks.Count);
        Assert.Equal(Enumerable.Range(1, words), result.Chunks.SelectMany(Body));
        Assert.Equal(Enumerable.Range(1, 75), Body(result.Chunks[0]));
        Assert.Equal(tokenCount, result.TokenCount);
    }

    [Fact]
    public void A_full_chunk_moves_the_tail_after_a_recent_comma_to_the_next_chunk()
    {
        // 60 words, a comma at body index 60, then words: the chunk is full after w74; the comma is 15 tokens back.
        var result = Chunker().Chunk(Words(1, 60) + ", " + Words(61, 80));
        Assert.Equal(2, result.Chunks.Count);
        Assert.Equal([.. Enumerable.Range(1, 60), Comma], Body(result.Chunks[0]));
        Assert.Equal(Enumerable.Range(61, 20), Body(result.Chunks[1]));
        Assert.Equal(75 + 20, result.TokenCount);
    }

    [Theory]
    [InlineData(55, true)] // 75 - 55 = 20: within the default backtrack
    [InlineData(54, false)] // 21 back: too far
    public void The_comma_must_be_within_the_backtrack_distance(int wordsBeforeComma, bool moves)
    {
        var result = Chunker().Chunk(Words(1, wordsBeforeComma) + " , " + Words(100, 130));
        int firstChunkBody = Body(result.Chunks[0]).Length;
        Assert.Equal(moves ? wordsBeforeComma + 1 : 75, firstChunkBody);
    }

    [Fact]
    public void Backtracking_can_be_disabled()
    {
        var result = Chunker(backtrack: 0).Chunk(Words(1, 60) + ", " + Words(61, 80));
        Assert.Equal(75, Body(result.Chunks[0]).Length);
    }

    [Fact]
    public void Moved_tokens_keep_their_weights()
    {
        var result = Chunker().Chunk(Words(1, 70) + ", (" + Words(71, 80) + ":1.3)");
        Assert.Equal(71, Body(result.Chunks[0]).Length);
        Assert.Equal(Enumerable.Range(71, 10), Body(result.Chunks[1]));
        Assert.All(result.Chunks[1].Multipliers.Skip(1).Take(10), m => Assert.Equal(1.3, m));
    }

    [Fact]
    public void Break_closes_the_chunk()
    {
        var result = Chunker().Chunk("w1 w2 BREAK w3");
        Assert.Equal(2, result.Chunks.Count);
        Assert.Equal([1, 2], Body(result.Chunks[0]));
        Assert.Equal([3], Body(result.Chunks[1]));
        Assert.Equal(76, result.TokenCount);
    }

    [Fact]
    public void Break_inside_brackets_is_an_ordinary_word()
    {
        var chunk = Chunker().Chunk("(w1 BREAK w2)").Chunks.Single();
        Assert.Equal([1, BreakWord, 2], Body(chunk));
        Assert.Equal([1.1, -1.1, 1.1], chunk.Multipliers.Skip(1).Take(3));
    }

    [Fact]
    public void A_distinct_pad_id_replaces_everything_after_the_first_eos()
    {
        var chunk = Chunker(padId: 0).Chunk("w1 w2").Chunks.Single();
        Assert.Equal([Bos, 1, 2, Eos, .. Enumerable.Repeat(0, 73)], chunk.Tokens);
        Assert.Equal(Enumerable.Repeat(1.0, 77), chunk.Multipliers);

        var full = Chunker(padId: 0).Chunk(Words(1, 75)).Chunks.Single();
        Assert.Equal(Eos, full.Tokens[^1]);
        Assert.Equal([Bos, Eos, .. Enumerable.Repeat(0, 75)], Chunker(padId: 0).EmptyChunk().Tokens);
    }

    [Fact]
    public void An_embedding_becomes_placeholder_tokens_with_a_fix()
    {
        var embeddings = new EmbeddingTokenIndex();
        embeddings.Add("emb", [500], 3);
        var chunk = Chunker(embeddings: embeddings).Chunk("w1 (emb:1.2) w2").Chunks.Single();

        Assert.Equal([1, 0, 0, 0, 2], Body(chunk));
        Assert.Equal([1.0, 1.0, 1.2, 1.2, 1.2, 1.0], chunk.Multipliers.Take(6));
        Assert.Equal([new EmbeddingFix(2, "emb", 3)], chunk.Fixes);
    }

    [Fact]
    public void The_longest_embedding_name_wins()
    {
        var embeddings = new EmbeddingTokenIndex();
        embeddings.Add("my", [501], 1);
        embeddings.Add("my-style", [501, 502], 2);
        embeddings.Add("w5-w6", [5, 6], 4);
        var chunk = Chunker(embeddings: embeddings).Chunk("my style my w5 w6 w5").Chunks.Single();

        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 5], Body(chunk));
        Assert.Equal([new EmbeddingFix(1, "my-style", 2), new EmbeddingFix(3, "my", 1), new EmbeddingFix(4, "w5-w6", 4)], chunk.Fixes);
    }

    [Fact]
    public void An_embedding_that_would_cross_the_chunk_boundary_starts_a_new_chunk()
    {
        var embeddings = new EmbeddingTokenIndex();
        embeddings.Add("emb", [500], 4);
        var result = Chunker(embeddings: embeddings).Chunk(Words(1, 73) + " emb w74");

        Assert.Equal(2, result.Chunks.Count);
        Assert.Equal(Enumerable.Range(1, 73), Body(result.Chunks[0]));
        Assert.Empty(result.Chunks[0].Fixes);
        Assert.Equal([0, 0, 0, 0, 74], Body(result.Chunks[1]));
        Assert.Equal([new EmbeddingFix(1, "emb", 4)], result.Chunks[1].Fixes);
        Assert.Equal(75 + 5, result.TokenCount);
    }

    [Fact]
    public void An_embedding_after_a_comma_moves_with_the_tail()
    {
        var embeddings = new EmbeddingTokenIndex();
        embeddings.Add("emb", [500], 2);
        var result = Chunker(embeddings: embeddings).Chunk(Words(1, 65) + ", w66 emb " + Words(67, 80));

        Assert.Equal([.. Enumerable.Range(1, 65), Comma], Body(result.Chunks[0]));
        Assert.Empty(result.Chunks[0].Fixes);
        Assert.Equal([66, 0, 0, .. Enumerable.Range(67, 14)], Body(result.Chunks[1]));
        Assert.Equal([new EmbeddingFix(2, "emb", 2)], result.Chunks[1].Fixes);
    }

    [Fact]
    public void An_embedding_longer_than_a_chunk_is_rejected()
    {
        var embeddings = new EmbeddingTokenIndex();
        embeddings.Add("emb", [500], 76);
        var error = Assert.Throws<ArgumentException>(() => Chunker(embeddings: embeddings).Chunk("emb"));
        Assert.Contains("'emb'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Runs_can_be_given_directly_to_treat_brackets_as_text()
    {
        var literal = new PromptChunker(text => [text.Length], Bos, Eos).Chunk([new WeightedText("(abc)", 1.0)]);
        Assert.Equal([5], Body(literal.Chunks.Single()));
    }
}
