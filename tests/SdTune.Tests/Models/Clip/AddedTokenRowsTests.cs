using SdTune.Conditioning;
using static TorchSharp.torch;

namespace SdTune.Tests.Models.Clip;

/// <summary>The hook for methods that add tokens: trainable embedding rows after the text encoder's table.</summary>
public class AddedTokenRowsTests
{
    [Fact]
    public void An_added_token_reads_its_row_which_alone_receives_gradients_in_a_frozen_encoder()
    {
        using var model = Training.TrainingTestKit.TinyModel();
        var encoder = model.TextEncoder;
        foreach (var p in encoder.parameters())
        {
            // Frozen, as a trainer leaves the base model.
            p.requires_grad = false;
        }

        var table = encoder.TokenEmbedding.weight!;
        var catId = model.Tokenizer.Encode("cat")[0];
        var id = model.Tokenizer.AddToken("<zzcat>");
        Assert.Equal(table.shape[0], id);

        var rows = encoder.AddTokenRows(table[catId].unsqueeze(0).detach().clone());
        Assert.Same(rows, encoder.AddedTokenRows);
        Assert.DoesNotContain(encoder.state_dict().Keys, k => k.Contains("added", StringComparison.OrdinalIgnoreCase));
        var conditioner = TextConditioner.ForModel(model);
        using (no_grad())
        {
            using var word = conditioner.EncodeCaptions(["a photo of cat"]);
            using var token = conditioner.EncodeCaptions(["a photo of <zzcat>"]);
            Assert.True(word.Context.equal(token.Context).all().item<bool>(), "the added row does not stand in for the word it copies");
        }

        using var trained = conditioner.EncodeCaptions(["a photo of <zzcat>"]);
        trained.Context.sum().backward();
        Assert.True(rows.grad is { } g && g.abs().sum().item<float>() > 0, "the added row got no gradient");
        Assert.Null(table.grad);

        encoder.RemoveAddedTokenRows();
        Assert.Null(encoder.AddedTokenRows);
    }
}
