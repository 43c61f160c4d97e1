using SdTune.Prompts;

namespace SdTune.Tests.Prompts;

public class ExtraNetworkTagsTests
{
    [Fact]
    public void Tags_are_removed_and_returned_in_order()
    {
        var extracted = ExtraNetworkTags.Extract("a <lora:foo:0.7> castle, <hypernet:anime:0.5>night<custom:x:k=v>");

        Assert.Equal("a  castle, night", extracted.Prompt);
        Assert.Equal(["lora", "hypernet", "custom"], extracted.Tags.Select(t => t.Kind));
        var lora = extracted.Tags[0];
        Assert.Equal("foo", lora.Name);
        Assert.Equal(["foo", "0.7"], lora.Positional);
        Assert.Equal(["0.7"], lora.Arguments);
        Assert.Equal("<lora:foo:0.7>", lora.ToString());
        Assert.Equal("v", extracted.Tags[2].Named["k"]);
    }

    [Theory]
    [InlineData("<not a tag>")]
    [InlineData("<:x>")]
    [InlineData("<lora:>")]
    [InlineData("a < b > c")]
    [InlineData("<lora:unclosed")]
    [InlineData("<lo-ra:x>")]
    public void Text_that_is_not_a_tag_is_kept(string prompt)
    {
        var extracted = ExtraNetworkTags.Extract(prompt);
        Assert.Equal(prompt, extracted.Prompt);
        Assert.Empty(extracted.Tags);
    }

    [Fact]
    public void Arguments_with_exactly_one_equals_sign_are_named()
    {
        var tag = ExtraNetworkTags.Extract("<custom:a:b=c:d=e=f:=g>").Tags.Single();
        Assert.Equal(["a", "b=c", "d=e=f", "=g"], tag.Items);
        Assert.Equal(["a", "d=e=f"], tag.Positional);
        Assert.Equal("c", tag.Named["b"]);
        Assert.Equal("g", tag.Named[""]);
    }

    [Theory]
    [InlineData("<lora:foo>", 1.0, 1.0, null)]
    [InlineData("<lora:foo:0.6>", 0.6, 0.6, null)]
    [InlineData("<lora:foo:0.5:0.8>", 0.5, 0.8, null)]
    [InlineData("<lora:foo:0.5:0.8:16>", 0.5, 0.8, 16)]
    [InlineData("<lora:foo:te=0.3:unet=0.9:dyn=8>", 0.3, 0.9, 8)]
    [InlineData("<lora:foo:0.5:te=0.2>", 0.2, 0.2, null)]
    [InlineData("<lora:foo:0.5:0.7:unet=-1>", 0.5, -1.0, null)]
    [InlineData("<lora:foo: 1.5 >", 1.5, 1.5, null)]
    [InlineData("<lyco:foo:0.4>", 0.4, 0.4, null)]
    public void Lora_weights_follow_the_reference_defaults(string prompt, double te, double unet, int? dyn)
    {
        var lora = ExtraNetworkTags.Extract(prompt).Loras().Single();
        Assert.Equal(new LoraTag("foo", te, unet, dyn, null), lora);
    }

    [Fact]
    public void Lora_block_weights_are_kept_as_written()
    {
        var lora = ExtraNetworkTags.Extract("<lora:foo:1:lbw=1,0,0,0,0,0,0,0,1,1,1,1,1,1,1,1,1>").Loras().Single();
        Assert.Equal("1,0,0,0,0,0,0,0,1,1,1,1,1,1,1,1,1", lora.BlockWeights);
        Assert.Equal(1.0, lora.TextEncoderWeight);

        Assert.Equal("ALL", ExtraNetworkTags.Extract("<lora:foo:lbw=ALL>").Loras().Single().BlockWeights);
    }

    [Theory]
    [InlineData("<lora:foo:abc>", "text-encoder weight 'abc'")]
    [InlineData("<lora:foo:1:x>", "UNet weight 'x'")]
    [InlineData("<lora:foo:1:unet=1,5>", "unet '1,5'")]
    [InlineData("<lora:foo:te=>", "te ''")]
    [InlineData("<lora:foo:1:1:1.5>", "dyn '1.5'")]
    [InlineData("<lora:foo:1:1:0>", "dyn 0")]
    [InlineData("<lora:foo:nan>", "'nan'")]
    [InlineData("<lora::1>", "has no name")]
    [InlineData("<lora:te=1>", "has no name")]
    public void Malformed_lora_tags_are_reported_with_the_tag(string prompt, string problem)
    {
        var extracted = ExtraNetworkTags.Extract(prompt);
        var error = Assert.Throws<PromptSyntaxException>(() => extracted.Loras());
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.Contains(prompt, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<hypernet:anime:0.5>", 0.5)]
    [InlineData("<hypernet:anime>", 1.0)]
    [InlineData("<hypernet:anime:2:ignored>", 2.0)]
    public void Hypernet_multiplier_defaults_to_one(string prompt, double multiplier)
    {
        Assert.Equal(new HypernetTag("anime", multiplier), ExtraNetworkTags.Extract(prompt).Hypernets().Single());
    }

    [Fact]
    public void Malformed_hypernet_multiplier_is_reported()
    {
        var extracted = ExtraNetworkTags.Extract("<hypernet:anime:strong>");
        var error = Assert.Throws<PromptSyntaxException>(() => extracted.Hypernets());
        Assert.Contains("'strong'", error.Message, StringComparison.Ordinal);
        Assert.Contains("<hypernet:anime:strong>", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Typed_readers_select_their_own_kinds()
    {
        var extracted = ExtraNetworkTags.Extract("<lora:a:1><hypernet:b:1><lyco:c:1><other:d>");
        Assert.Equal(["a", "c"], extracted.Loras().Select(l => l.Name));
        Assert.Equal(["b"], extracted.Hypernets().Select(h => h.Name));
        Assert.Throws<ArgumentException>(() => LoraTag.FromTag(extracted.Tags[3]));
        Assert.Throws<ArgumentException>(() => HypernetTag.FromTag(extracted.Tags[0]));
    }
}
