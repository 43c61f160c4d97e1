using SdTune.Text;

namespace SdTune.Tests.Text;

public class ClipTokenizerAddedTokenTests
{
    // "a photo of a cat": a, photo, of, a, cat.
    private static readonly int[] PhotoOf = ClipTokenizerCases.ByText("a photo of a cat").Ids[1..3];

    [Fact]
    public void Added_tokens_get_the_next_ids_and_are_matched_as_whole_units()
    {
        var tokenizer = ClipTokenizer.CreateDefault();
        Assert.Equal(49408, tokenizer.AddToken("<s0>"));
        Assert.Equal(49409, tokenizer.AddToken("<s1>"));
        Assert.Equal(49410, tokenizer.AddToken("<s2>"));
        Assert.Equal(49411, tokenizer.VocabSize);
        Assert.Equal(["<s0>", "<s1>", "<s2>"], tokenizer.AddedTokens);

        Assert.Equal([49408, 49409, .. PhotoOf, 49410], tokenizer.Encode("<s0><s1> photo of <s2>"));
        Assert.True(tokenizer.TryGetTokenId("<s1>", out var s1));
        Assert.Equal(49409, s1);
        Assert.Equal("<s2>", tokenizer.GetToken(49410));
    }

    [Fact]
    public void An_added_word_is_matched_inside_a_prompt_and_everything_else_is_unchanged()
    {
        var tokenizer = ClipTokenizer.CreateDefault();
        var id = tokenizer.AddToken("sks-token");
        var dog = ClipTokenizerCases.ByText("embedding:my_embed, a dog").Ids[^1];
        var cat = ClipTokenizerCases.ByText("a photo of a cat").Ids;
        Assert.Equal([.. cat[..3], id, dog], tokenizer.Encode("a photo of sks-token dog"));

        // Outside the added token, text still goes through cleanup and lower-casing.
        Assert.Equal([.. cat, id, .. cat], tokenizer.Encode("A Photo Of A CAT sks-token a  photo of a &#99;at"));
        foreach (var c in ClipTokenizerCases.All)
        {
            Assert.Equal(c.Ids, tokenizer.Encode(c.Text));
        }
    }

    [Fact]
    public void Added_tokens_are_found_in_unescaped_text_case_sensitively_longest_first()
    {
        var tokenizer = ClipTokenizer.CreateDefault();
        var shortId = tokenizer.AddToken("sks");
        var longId = tokenizer.AddToken("sks-token");
        Assert.Equal([longId], tokenizer.Encode("sks-token"));
        Assert.Equal([shortId, .. ClipTokenizer.CreateDefault().Encode("-tok")], tokenizer.Encode("sks-tok"));
        Assert.Equal([tokenizer.AddToken("<s0>")], tokenizer.Encode("&lt;s0&gt;"));

        // Case-sensitive: "<S0>" is not the added token "<s0>".
        // The reference pieces of "<s0><s1> photo of <s2>" are < s 0 >< s 1 > photo of < s 2 >.
        var reference = ClipTokenizerCases.ByText("<s0><s1> photo of <s2>").Ids;
        Assert.Equal([.. reference[..3], reference[^1]], tokenizer.Encode("<S0>"));
    }

    [Fact]
    public void Decode_writes_added_tokens_as_words()
    {
        var tokenizer = ClipTokenizer.CreateDefault();
        tokenizer.AddToken("<cat-toy>");
        Assert.Equal("a <cat-toy> backpack ", tokenizer.Decode(tokenizer.Encode("a <cat-toy> backpack")));
    }

    [Fact]
    public void Tokens_added_to_one_tokenizer_do_not_leak_into_others()
    {
        var first = ClipTokenizer.CreateDefault();
        first.AddToken("<s0>");
        var clone = first.Clone();
        clone.AddToken("<s1>");

        var fresh = ClipTokenizer.CreateDefault();
        Assert.Equal(49408, fresh.VocabSize);
        Assert.Equal(49409, first.VocabSize);
        Assert.Equal(49410, clone.VocabSize);
        Assert.Equal(ClipTokenizerCases.ByText("<s0><s1> photo of <s2>").Ids, fresh.Encode("<s0><s1> photo of <s2>"));
        Assert.False(first.TryGetTokenId("<s1>", out _));
        Assert.Equal([49408], clone.Encode("<s0>"));
    }

    [Fact]
    public void Duplicates_are_rejected_with_a_clear_error()
    {
        var tokenizer = ClipTokenizer.CreateDefault();
        tokenizer.AddToken("<s0>");
        var again = Assert.Throws<ArgumentException>(() => tokenizer.AddToken("<s0>"));
        Assert.Contains("already contains the token \"<s0>\" (id 49408)", again.Message, StringComparison.Ordinal);

        var existing = Assert.Throws<ArgumentException>(() => tokenizer.AddToken("cat</w>"));
        Assert.Contains("(id 2368)", existing.Message, StringComparison.Ordinal);
        Assert.Contains("already contains", Assert.Throws<ArgumentException>(() => tokenizer.AddToken("<|endoftext|>")).Message, StringComparison.Ordinal);
        Assert.Equal(49409, tokenizer.VocabSize);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" sks")]
    [InlineData("sks ")]
    [InlineData("two  spaces")]
    [InlineData("tab\there")]
    [InlineData("&lt;s0&gt;")]
    public void Tokens_that_could_never_match_are_rejected(string token)
    {
        var tokenizer = ClipTokenizer.CreateDefault();
        Assert.Throws<ArgumentException>(() => tokenizer.AddToken(token));
        Assert.Equal(49408, tokenizer.VocabSize);
    }

    [Fact]
    public void Model_input_keeps_added_ids()
    {
        var tokenizer = ClipTokenizer.CreateDefault();
        var id = tokenizer.AddToken("<s0>");
        var encoded = tokenizer.EncodeForModel("a photo of <s0>");
        Assert.Equal([49406, ClipTokenizerCases.ByText("a").Ids[0], .. PhotoOf, id, 49407, 49407], encoded.InputIds.Take(7));
        Assert.Equal(6, encoded.Length);
    }
}
