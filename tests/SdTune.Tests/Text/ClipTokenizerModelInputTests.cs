using SdTune.Text;

namespace SdTune.Tests.Text;

public class ClipTokenizerModelInputTests
{
    private const int Bos = 49406;
    private const int Eos = 49407;

    private static readonly ClipTokenizer Tokenizer = ClipTokenizer.CreateDefault();

    [Fact]
    public void Sd1_padding_repeats_the_end_token()
    {
        var ids = ClipTokenizerCases.ByText("a photo of a cat").Ids;
        var encoded = Tokenizer.EncodeForModel("a photo of a cat", padding: ClipPadding.EndToken);

        int[] expected = [Bos, .. ids, .. Enumerable.Repeat(Eos, 77 - ids.Length - 1)];
        Assert.Equal(expected, encoded.InputIds);
        Assert.Equal(ids.Length + 2, encoded.Length);
        Assert.Equal([.. Enumerable.Repeat(1, ids.Length + 2), .. Enumerable.Repeat(0, 77 - ids.Length - 2)], encoded.AttentionMask);
        Assert.False(encoded.IsTruncated);
    }

    [Fact]
    public void Default_padding_is_the_end_token()
    {
        Assert.Equal(Tokenizer.EncodeForModel("Hello, world!", padding: ClipPadding.EndToken).InputIds, Tokenizer.EncodeForModel("Hello, world!").InputIds);
    }

    [Fact]
    public void OpenClip_padding_uses_id_zero_after_the_end_token()
    {
        var ids = ClipTokenizerCases.ByText("Hello, world!").Ids;
        var encoded = Tokenizer.EncodeForModel("Hello, world!", padding: ClipPadding.Zero);

        int[] expected = [Bos, .. ids, Eos, .. new int[77 - ids.Length - 2]];
        Assert.Equal(expected, encoded.InputIds);
        Assert.Equal(ids.Length + 2, encoded.Length);
        Assert.Equal(Eos, encoded.InputIds[encoded.Length - 1]);
    }

    [Fact]
    public void Empty_text_is_start_and_end_token_only()
    {
        var encoded = Tokenizer.EncodeForModel("  \n\t  ", padding: ClipPadding.Zero);
        Assert.Equal(2, encoded.Length);
        Assert.Equal([Bos, Eos, .. new int[75]], encoded.InputIds);
    }

    [Fact]
    public void A_206_token_prompt_is_truncated_to_77_keeping_the_end_token_last()
    {
        // Pieces never merge across a space, so the ids of texts joined by spaces are the reference ids joined.
        var first = ClipTokenizerCases.All.Single(c => c.Ids.Length == 129);
        var second = ClipTokenizerCases.All.Single(c => c.Ids.Length == 76);
        var third = ClipTokenizerCases.ByText("a");
        var text = $"{first.Text} {second.Text} {third.Text}";
        int[] all = [.. first.Ids, .. second.Ids, .. third.Ids];
        Assert.Equal(206, all.Length);
        Assert.Equal(all, Tokenizer.Encode(text));

        foreach (var padding in new[] { ClipPadding.EndToken, ClipPadding.Zero })
        {
            var encoded = Tokenizer.EncodeForModel(text, padding: padding);
            Assert.Equal([Bos, .. all[..75], Eos], encoded.InputIds);
            Assert.Equal(77, encoded.Length);
            Assert.All(encoded.AttentionMask, m => Assert.Equal(1, m));
            Assert.True(encoded.IsTruncated);
        }
    }

    [Fact]
    public void A_prompt_of_exactly_75_tokens_fits_without_truncation()
    {
        var long76 = ClipTokenizerCases.All.Single(c => c.Ids.Length == 76);
        var encoded = Tokenizer.EncodeForModel(long76.Text);
        Assert.True(encoded.IsTruncated);
        Assert.Equal([Bos, .. long76.Ids[..75], Eos], encoded.InputIds);

        var ids = ClipTokenizerCases.ByText("123456789012345678901234567890").Ids;
        Assert.Equal(30, ids.Length);
        var digits = string.Concat(Enumerable.Repeat("1234567890", 7)) + "12345";
        var exact = Tokenizer.EncodeForModel(digits);
        Assert.False(exact.IsTruncated);
        Assert.Equal(77, exact.Length);
        Assert.Equal(Eos, exact.InputIds[76]);
    }

    [Fact]
    public void Other_lengths_are_supported_and_too_short_ones_rejected()
    {
        var ids = ClipTokenizerCases.ByText("a photo of a cat").Ids;
        Assert.Equal([Bos, ids[0], ids[1], Eos], Tokenizer.EncodeForModel("a photo of a cat", maxLength: 4).InputIds);
        Assert.Equal([Bos, Eos], Tokenizer.EncodeForModel("a photo of a cat", maxLength: 2).InputIds);
        Assert.Throws<ArgumentOutOfRangeException>(() => Tokenizer.EncodeForModel("a", maxLength: 1));
        Assert.Throws<ArgumentNullException>(() => Tokenizer.EncodeForModel(null!));
    }
}
