using static TorchSharp.torch;

namespace SdTune.Tests.Models.Clip;

/// <summary>The encoder must be trainable (text-encoder fine-tuning, textual inversion).</summary>
public class ClipTextTrainingTests
{
    [Fact]
    public void Gradients_reach_every_parameter_and_only_the_used_token_rows()
    {
        using var scope = NewDisposeScope();
        using var model = ClipTextFixture.LoadModel();
        model.train();
        var ids = ClipTextFixture.Read("input.input_ids");

        var output = model.forward(ids);
        (output.TextEmbeds!.square().sum() + model.Encode(ids, clipSkip: 2, applyFinalLayerNorm: false).square().mean()).backward();

        foreach (var (name, parameter) in model.named_parameters())
        {
            Assert.True(parameter.grad is not null, $"{name} has no gradient");
            Assert.True(parameter.grad!.abs().sum().item<float>() > 0, $"{name} has an all-zero gradient");
        }

        var tokenGrad = model.state_dict()["text_model.embeddings.token_embedding.weight"].grad!;
        var rowHasGrad = tokenGrad.abs().sum(1).gt(0);
        var used = zeros(tokenGrad.shape[0], dtype: ScalarType.Bool);
        used.index_fill_(0, ids.flatten().unique().Item1, true);
        Assert.True(rowHasGrad.eq(used).all().item<bool>(), "exactly the token rows present in the input get a gradient");
    }
}
