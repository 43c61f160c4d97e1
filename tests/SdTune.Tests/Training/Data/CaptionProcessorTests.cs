using SdTune.Training.Data;

namespace SdTune.Tests.Training.Data;

public class CaptionProcessorTests
{
    private static readonly CaptionContext Epoch1 = new(1);

    private static string Run(SubsetOptions options, string caption, ScriptedRandom? random = null, CaptionContext? context = null) =>
        new CaptionProcessor(options).Process(caption, context ?? Epoch1, random ?? new ScriptedRandom());

    [Fact]
    public void Plain_captions_pass_through_and_only_the_first_line_is_used()
    {
        Assert.Equal("a dog, grass", Run(new SubsetOptions(), "a dog, grass\nsecond line"));
    }

    [Fact]
    public void Prefix_and_suffix_are_joined_with_a_space()
    {
        Assert.Equal("sks a dog on grass hd", Run(new SubsetOptions { CaptionPrefix = "sks", CaptionSuffix = "hd" }, "a dog on grass"));
    }

    [Fact]
    public void Caption_dropout_by_rate_draws_once_and_empties_below_the_rate()
    {
        var options = new SubsetOptions { CaptionDropoutRate = 0.25 };
        Assert.Equal("", Run(options, "a dog", new ScriptedRandom([0.2])));
        Assert.Equal("a dog", Run(options, "a dog", new ScriptedRandom([0.25])));
    }

    [Fact]
    public void Caption_dropout_every_n_epochs_empties_epochs_divisible_by_n()
    {
        var options = new SubsetOptions { CaptionDropoutEveryNEpochs = 2 };
        Assert.Equal("a dog", Run(options, "a dog", context: new CaptionContext(1)));
        Assert.Equal("", Run(options, "a dog", context: new CaptionContext(2)));
        Assert.Equal("a dog", Run(options, "a dog", context: new CaptionContext(3)));
        Assert.Equal("", Run(options, "a dog", context: new CaptionContext(4)));
    }

    [Fact]
    public void Dropout_applies_after_the_prefix_so_nothing_is_left()
    {
        Assert.Equal("", Run(new SubsetOptions { CaptionPrefix = "sks", CaptionDropoutRate = 1 }, "a dog", new ScriptedRandom([0.5])));
    }

    [Fact]
    public void Wildcards_pick_a_line_then_one_option_per_group_and_keep_escaped_braces()
    {
        var options = new SubsetOptions { EnableWildcard = true };

        // Line 1 of 2, then option 2 of {red|green|blue}, then option 0 of {cat|dog}.
        Assert.Equal("a green dog {literal}", Run(options, "first {x|y}\na {red|green|blue} {dog|cat} {{literal}}", new ScriptedRandom(ints: [1, 1, 0])));
        Assert.Equal("{{a}}", Run(options, "{{{{a}}}}"));
    }

    [Fact]
    public void Without_wildcards_braces_are_left_alone()
    {
        Assert.Equal("a {red|blue} dog", Run(new SubsetOptions(), "a {red|blue} dog"));
    }

    [Fact]
    public void Shuffle_keeps_the_first_keep_tokens_in_place_and_joins_with_comma_space()
    {
        var options = new SubsetOptions { ShuffleCaption = true, KeepTokens = 1 };

        // Tags are trimmed and empty ones kept: flexible ["", b, c, d]. Fisher-Yates draws j for i = 3, 2, 1.
        Assert.Equal("sks, c, d, , b", Run(options, " sks,  ,b,c ,d", new ScriptedRandom(ints: [1, 0, 1])));

        // Flexible [b, c, d]: i=2 swaps with 0 -> [d, c, b]; i=1 stays.
        Assert.Equal("sks, d, c, b", Run(options, "sks,b,c ,d", new ScriptedRandom(ints: [0, 1])));
    }

    [Fact]
    public void Keep_tokens_separator_fixes_a_prefix_and_a_suffix()
    {
        var options = new SubsetOptions { ShuffleCaption = true, KeepTokensSeparator = "|||" };

        // Fixed "sks, dog", flexible [a, b], fixed suffix "hd, sharp"; the shuffle swaps a and b.
        Assert.Equal("sks, dog, b, a, hd, sharp", Run(options, "sks, dog ||| a, b ||| hd, sharp", new ScriptedRandom(ints: [0])));

        // Empty tags disappear around the separator.
        Assert.Equal("sks, a", Run(options, "sks,|||, a,", new ScriptedRandom()));
    }

    [Fact]
    public void Tag_dropout_draws_per_flexible_tag_and_never_drops_fixed_ones()
    {
        var options = new SubsetOptions { CaptionTagDropoutRate = 0.5, KeepTokens = 1 };
        var random = new ScriptedRandom([0.9, 0.1, 0.5]);
        Assert.Equal("sks, a, c", Run(options, "sks, a, b, c", random));
        Assert.Equal(3, random.DoublesDrawn);
    }

    [Fact]
    public void Secondary_separator_groups_move_and_drop_as_one_tag()
    {
        var options = new SubsetOptions { ShuffleCaption = true, SecondarySeparator = ";;;", CaptionTagDropoutRate = 0.5 };

        // Tags [a, b;;;c]: swapped, then b;;;c kept (0.6) and a dropped (0.2); finally ";;;" becomes ",".
        Assert.Equal("b,c", Run(options, "a, b;;;c", new ScriptedRandom([0.6, 0.2], [0])));
        Assert.Equal("x,y", Run(new SubsetOptions { SecondarySeparator = ";;;" }, "x;;;y"));
    }

    [Fact]
    public void Custom_caption_separator_splits_tags_but_the_join_is_comma_space()
    {
        var options = new SubsetOptions { ShuffleCaption = true, CaptionSeparator = ";" };
        Assert.Equal("b, a", Run(options, "a; b", new ScriptedRandom(ints: [0])));
    }

    [Fact]
    public void Token_warmup_limits_the_flexible_tags_until_the_warmup_step()
    {
        var options = new SubsetOptions { TokenWarmupStep = 10, TokenWarmupMin = 1 };

        // Flexible tags a..e (5): at step s the count is floor(s * (5 - 1) / 10) + 1.
        Assert.Equal("a", Run(options, "a, b, c, d, e", context: new CaptionContext(1, 0)));
        Assert.Equal("a, b, c", Run(options, "a, b, c, d, e", context: new CaptionContext(1, 5)));
        Assert.Equal("a, b, c, d, e", Run(options, "a, b, c, d, e", context: new CaptionContext(1, 10)));

        // A fraction of the total steps: 0.5 of 20 = 10.
        Assert.Equal("a, b, c", Run(options with { TokenWarmupStep = 0.5 }, "a, b, c, d, e", context: new CaptionContext(1, 5, 20)));
    }

    [Fact]
    public void A_seeded_source_gives_the_same_caption_every_time()
    {
        var options = new SubsetOptions { ShuffleCaption = true, CaptionTagDropoutRate = 0.3, KeepTokens = 1 };
        var caption = "sks, a, b, c, d, e, f, g";
        var first = new CaptionProcessor(options).Process(caption, Epoch1, SeededRandom.For(7, 1, 2, 3));
        var second = new CaptionProcessor(options).Process(caption, Epoch1, SeededRandom.For(7, 1, 2, 3));
        Assert.Equal(first, second);
        Assert.StartsWith("sks", first, StringComparison.Ordinal);
    }
}
