using SdTune.Adapters;

namespace SdTune.Tests.Adapters;

public class LoraBlockWeightsTests
{
    [Fact]
    public void Seventeen_values_address_the_attention_blocks_of_the_original_layout()
    {
        using var unet = AdapterTestModels.LoadTinyUNet();
        // BASE, IN01, IN02, IN04, IN05, IN07, IN08, M00, OUT03 ... OUT11
        double[] vector = [0.5, 0.1, 0.2, 0.4, 0.5, 0.7, 0.8, 0.9, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.1];
        var blocks = new LoraBlockWeights(new LoraTargets(unet, null), vector);
        Assert.Equal(0.5, blocks.Base);
        Assert.Equal(0.1, blocks.WeightOf("down_blocks.0.attentions.0.proj_in"));        // input_blocks.1.1
        Assert.Equal(0.2, blocks.WeightOf("down_blocks.0.attentions.1.transformer_blocks.0.attn2.to_k")); // input_blocks.2.1
        Assert.Equal(0.0, blocks.WeightOf("down_blocks.0.downsamplers.0.conv"));          // input_blocks.3.0.op: IN03 is not in the 17
        Assert.Equal(0.9, blocks.WeightOf("mid_block.attentions.0.proj_out"));            // middle_block.1
        Assert.Equal(1.3, blocks.WeightOf("up_blocks.1.attentions.0.proj_in"));          // output_blocks.3.1
        Assert.Equal(1.0, blocks.WeightOf("time_embedding.linear_1"));
        Assert.Throws<ArgumentException>(() => new LoraBlockWeights(new LoraTargets(unet, null), [1, 2, 3]));
    }
}
