using SdTune.Imaging;

namespace SdTune.Tests.Imaging;

public class GenerationInfotextTests
{
    private static GenerationInfotext Basic(string prompt = "a photo of a cat", string negative = "") => new()
    {
        Prompt = prompt,
        NegativePrompt = negative,
        Steps = 20,
        Sampler = "Euler a",
        CfgScale = 7,
        Seed = 965400086,
        Width = 512,
        Height = 512,
        ModelHash = "45dee52b",
        ModelName = "name",
    };

    [Fact]
    public void Writes_a1111_layout()
    {
        var text = Basic(negative: "ugly, blurry").ToText();

        Assert.Equal(
            "a photo of a cat\nNegative prompt: ugly, blurry\n"
            + "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x512, Model hash: 45dee52b, Model: name",
            text);
    }

    [Fact]
    public void Omits_an_empty_negative_prompt_and_orders_optional_fields_like_a1111()
    {
        var info = Basic() with
        {
            ScheduleType = "Karras",
            Sampler = "DPM++ 2M",
            CfgScale = 7.5,
            DenoisingStrength = 0.75,
            ClipSkip = 2,
            Extra = [new("Lora hashes", "detail: a1b2c3d4e5f6, style: 0123456789ab"), new("TI hashes", "bad: 112233445566"), new("Version", "v1.10.1")],
        };

        Assert.Equal(
            "a photo of a cat\n"
            + "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7.5, Seed: 965400086, Size: 512x512, "
            + "Model hash: 45dee52b, Model: name, Denoising strength: 0.75, Clip skip: 2, "
            + "Lora hashes: \"detail: a1b2c3d4e5f6, style: 0123456789ab\", TI hashes: \"bad: 112233445566\", Version: v1.10.1",
            info.ToText());
    }

    [Theory]
    [InlineData(7.0, "7")]
    [InlineData(7.5, "7.5")]
    [InlineData(0.1, "0.1")]
    [InlineData(12.25, "12.25")]
    [InlineData(0.00001, "1e-05")]
    public void Numbers_are_formatted_like_python(double cfg, string expected)
    {
        Assert.Contains($"CFG scale: {expected},", (Basic() with { CfgScale = cfg }).ToText(), StringComparison.Ordinal);
    }

    [Fact]
    public void Values_with_commas_colons_or_newlines_are_json_strings()
    {
        var info = Basic() with
        {
            ModelName = "my, model",
            Extra = [new("Note", "line1\nline2 \"quoted\" back\\slash\ttab\u0001"), new("Plain", "has \"quotes\" only"), new("Wildcard", "été: ok")],
        };

        var text = info.ToText();

        Assert.Contains("Model: \"my, model\"", text, StringComparison.Ordinal);
        Assert.Contains("Note: \"line1\\nline2 \\\"quoted\\\" back\\\\slash\\ttab\\u0001\"", text, StringComparison.Ordinal);
        Assert.Contains("Plain: has \"quotes\" only", text, StringComparison.Ordinal);
        Assert.Contains("Wildcard: \"été: ok\"", text, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> Prompts => new()
    {
        { "a cat", "" },
        { "masterpiece, best quality, (cat:1.2), [dog], <lora:detail:0.6>", "lowres, bad anatomy, (worst quality:1.4)" },
        { "a \"quoted\" word, back\\slash and {braces}", "" },
        { "first line\nsecond line, with comma\nthird: with colon", "neg line 1\nneg line 2" },
        { "桜の木の下の猫, ☕, émigré, 🐱 emoji", "ぼやけた" },
        { "", "only a negative prompt" },
        { "Steps: in a prompt line, Sampler: x, CFG scale: 1\nfinal line", "" },
    };

    [Theory]
    [MemberData(nameof(Prompts))]
    public void Round_trips_through_text(string prompt, string negative)
    {
        var info = Basic(prompt, negative) with
        {
            ScheduleType = "Karras",
            ModelName = "model: v1, final",
            DenoisingStrength = 0.35,
            ClipSkip = 2,
            Extra = [new("Lora hashes", "a: 1, b: 2"), new("Hires upscaler", "4x-UltraSharp"), new("Notes", "multi\nline, \"text\"")],
        };

        var parsed = GenerationInfotext.Parse(info.ToText());

        Assert.Equal(info, parsed);
    }

    [Fact]
    public void Parses_a1111_output()
    {
        const string text = """
            girl with an artist's beret, determined, blue eyes, desert scene, ((eyeshadow)), (coquettish), detailed, intricate
            Negative prompt: ugly, fat, obese, chubby, (((deformed))), [blurry], bad anatomy
            Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 965400086, Size: 512x768, Model hash: 45dee52b, Lora hashes: "add_detail: 7c6bad76eb54", Version: v1.6.0
            """;

        var info = GenerationInfotext.Parse(text);

        Assert.Equal("girl with an artist's beret, determined, blue eyes, desert scene, ((eyeshadow)), (coquettish), detailed, intricate", info.Prompt);
        Assert.Equal("ugly, fat, obese, chubby, (((deformed))), [blurry], bad anatomy", info.NegativePrompt);
        Assert.Equal((20, "Euler a", 7.0, 965400086L, 512, 768), (info.Steps, info.Sampler, info.CfgScale, info.Seed, info.Width, info.Height));
        Assert.Equal("45dee52b", info.ModelHash);
        Assert.Null(info.ModelName);
        Assert.Null(info.ClipSkip);
        Assert.Equal([new("Lora hashes", "add_detail: 7c6bad76eb54"), new("Version", "v1.6.0")], info.Extra);
    }

    [Fact]
    public void Raw_fields_follow_parse_generation_parameters()
    {
        // Size-like values split; quoted values decoded; an empty value is skipped; a repeated key keeps its place, last
        // value wins; a one-character key does not match the pattern.
        var fields = GenerationInfotext.ParseFields("p\nSteps: 5, Hires resize: 1024x1536, Seed resize from: -1x-1, Empty: , Steps: 6, Quoted: \"a, b\", Q: 1");

        Assert.Equal(
            [
                new("Prompt", "p"), new("Negative prompt", ""), new("Steps", "6"), new("Hires resize-1", "1024"), new("Hires resize-2", "1536"),
                new("Seed resize from", "-1x-1"), new("Quoted", "a, b"),
            ],
            fields);
    }

    [Fact]
    public void A_last_line_with_fewer_than_three_settings_is_part_of_the_prompt()
    {
        var fields = GenerationInfotext.ParseFields("a cat\nstyle: oil, mood: calm");

        Assert.Equal("a cat\nstyle: oil, mood: calm", fields[0].Value);
        Assert.Equal(2, fields.Count);
    }

    [Fact]
    public void Lines_are_trimmed_and_negative_prompt_continues_to_the_settings()
    {
        var fields = GenerationInfotext.ParseFields("  a cat  \r\n Negative prompt:   dog \n more dog\nSteps: 1, Sampler: x, Seed: 2");

        Assert.Equal("a cat", fields[0].Value);
        Assert.Equal("dog\nmore dog", fields[1].Value);
    }

    [Fact]
    public void Missing_or_malformed_settings_are_named()
    {
        var missing = Assert.Throws<FormatException>(() => GenerationInfotext.Parse("a cat\nSampler: x, CFG scale: 7, Seed: 1, Size: 8x8"));
        var malformed = Assert.Throws<FormatException>(() => GenerationInfotext.Parse("a cat\nSteps: many, Sampler: x, CFG scale: 7, Seed: 1, Size: 8x8"));

        Assert.Contains("'Steps'", missing.Message, StringComparison.Ordinal);
        Assert.Contains("'Steps'", malformed.Message, StringComparison.Ordinal);
        Assert.Contains("'many'", malformed.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bad:key")]
    [InlineData("x")]
    [InlineData("Steps")]
    [InlineData("-dash first")]
    public void Keys_that_cannot_be_read_back_are_refused(string key)
    {
        var info = Basic() with { Extra = [new(key, "v")] };
        Assert.Throws<ArgumentException>(info.ToText);
    }
}
