using System.Diagnostics;
using SdTune.Text;

namespace SdTune.Tests.Text;

public class ClipTokenizerReferenceTests
{
    private static readonly ClipTokenizer Tokenizer = ClipTokenizer.CreateDefault();

    public static TheoryData<int, string> Cases => ClipTokenizerCases.Indices();

    [Fact]
    public void Fixture_has_the_expected_cases()
    {
        Assert.Equal(40, ClipTokenizerCases.All.Count);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encode_gives_the_reference_ids(int index, string text)
    {
        var expected = ClipTokenizerCases.All[index];
        Assert.Equal(expected.Ids, Tokenizer.Encode(text));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Ids_name_the_reference_bpe_tokens(int index, string text)
    {
        var expected = ClipTokenizerCases.All[index];
        Assert.Equal(expected.BpeTokens, Tokenizer.Encode(text).Select(Tokenizer.GetToken));
    }

    [Fact]
    public void Special_ids_and_vocab_size_match_the_reference()
    {
        Assert.Equal(ClipTokenizerCases.StartOfTextId, Tokenizer.BosTokenId);
        Assert.Equal(ClipTokenizerCases.EndOfTextId, Tokenizer.EosTokenId);
        Assert.Equal(ClipTokenizerCases.VocabSize, Tokenizer.VocabSize);
        Assert.Equal("<|startoftext|>", Tokenizer.GetToken(49406));
        Assert.Equal("<|endoftext|>", Tokenizer.GetToken(49407));
        Assert.Equal("!", Tokenizer.GetToken(0));
        Assert.Equal(ClipPadding.EndToken, Tokenizer.Padding);
    }

    [Fact]
    public void Special_token_literals_in_text_become_the_special_ids()
    {
        Assert.Equal([49406], Tokenizer.Encode("<|startoftext|>"));
        Assert.Equal([49407], Tokenizer.Encode("<|EndOfText|>"));
        var cat = ClipTokenizerCases.ByText("a photo of a cat").Ids;
        Assert.Equal([49406, .. cat, 49407], Tokenizer.Encode("<|startoftext|>a photo of a cat<|endoftext|>"));
    }

    [Fact]
    public void Text_is_html_unescaped_twice_before_tokenising()
    {
        Assert.Equal(Tokenizer.Encode("<s0><s1> photo of <s2>"), Tokenizer.Encode("&lt;s0&gt;&lt;s1&gt; photo of &lt;s2&gt;"));
        Assert.Equal(Tokenizer.Encode("&"), Tokenizer.Encode("&amp;amp;"));
        Assert.Equal(ClipTokenizerCases.ByText("don't can't won't shan't y'all").Ids, Tokenizer.Encode("don&#39;t can&#x27;t won&apos;t shan&amp;#39;t y'all"));
    }

    [Fact]
    public void Python_whitespace_is_collapsed_including_information_separators()
    {
        // Python's str.isspace includes U+001C..U+001F, which char.IsWhiteSpace does not.
        Assert.Equal(ClipTokenizerCases.ByText("a photo of a cat").Ids, Tokenizer.Encode("a\u001Cphoto\u3000of\u00A0a\u2028cat\u001F"));
    }

    [Fact]
    public void Lower_casing_follows_python_for_dotted_capital_i_and_final_sigma()
    {
        // Python: "İ".lower() == "i\u0307" (two pieces: a letter and a combining mark), not .NET's "i".
        var dotted = Tokenizer.Encode("İ");
        Assert.Equal(Tokenizer.Encode("i\u0307"), dotted);
        Assert.NotEqual(Tokenizer.Encode("i"), dotted);

        // Python: "ΟΔΥΣΣΕΥΣ".lower() == "οδυσσευς" (word-final sigma), not "οδυσσευσ".
        Assert.Equal(Tokenizer.Encode("οδυσσευς"), Tokenizer.Encode("ΟΔΥΣΣΕΥΣ"));
        Assert.NotEqual(Tokenizer.Encode("οδυσσευσ"), Tokenizer.Encode("ΟΔΥΣΣΕΥΣ"));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decode_restores_the_lower_cased_text_up_to_spacing(int index, string text)
    {
        var decoded = Tokenizer.Decode(ClipTokenizerCases.All[index].Ids);
        Assert.Equal(WithoutWhitespace(text.ToLowerInvariant()), WithoutWhitespace(decoded));
    }

    [Fact]
    public void Decode_turns_word_ends_into_spaces_and_can_skip_special_tokens()
    {
        var cafe = ClipTokenizerCases.ByText("café naïve résumé").Ids;
        Assert.Equal("café naïve résumé ", Tokenizer.Decode(cafe));
        var padded = Tokenizer.EncodeForModel("café naïve résumé").InputIds;
        Assert.Equal("café naïve résumé ", Tokenizer.Decode(padded, skipSpecialTokens: true));
        Assert.StartsWith("<|startoftext|>café", Tokenizer.Decode(padded), StringComparison.Ordinal);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.Decode([320, 49408]));
        Assert.Contains("49408", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Token_lookup_works_both_ways()
    {
        Assert.True(Tokenizer.TryGetTokenId("cat</w>", out var cat));
        Assert.Equal(2368, cat);
        Assert.Equal("cat</w>", Tokenizer.GetToken(cat));
        Assert.False(Tokenizer.TryGetTokenId("<s0>", out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.GetToken(-1));
    }

    [Fact]
    public void Encoding_from_many_threads_gives_the_reference_ids()
    {
        var shared = ClipTokenizer.CreateDefault();
        var cases = ClipTokenizerCases.All;
        Parallel.For(0, 400, k =>
        {
            var c = cases[k % cases.Count];
            Assert.Equal(c.Ids, shared.Encode(c.Text));
        });
    }

    [Fact]
    public void Loading_the_embedded_vocabulary_is_fast()
    {
        // The best of three runs, so that a busy machine (other builds on 2 cores) does not fail the test;
        // a load typically takes about 100 ms.
        var best = TimeSpan.MaxValue;
        for (var run = 0; run < 3; run++)
        {
            var watch = Stopwatch.StartNew();
            var vocabulary = OriginalBpeVocabularyFile.ReadEmbedded();
            watch.Stop();
            Assert.Equal(49408, vocabulary.Count);
            best = watch.Elapsed < best ? watch.Elapsed : best;
        }

        Assert.True(best < TimeSpan.FromSeconds(1), $"loading took {best.TotalMilliseconds:F0} ms");
    }

    private static string WithoutWhitespace(string s) => string.Concat(s.Where(c => !char.IsWhiteSpace(c)));
}
