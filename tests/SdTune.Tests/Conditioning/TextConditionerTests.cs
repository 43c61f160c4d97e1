using SdTune.Conditioning;
using SdTune.Models;
using SdTune.Prompts;
using SdTune.Tests.Pipelines;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Tests.Conditioning;

/// <summary>
/// The one text conditioning of SD 1.x, 2.x and SDXL: what each model's UNet context is made of (checked against the
/// encoders' raw forward outputs), the plain-caption and A1111-prompt paths, gradients and the embedding seam.
/// </summary>
public sealed class TextConditionerTests : IDisposable
{
    private readonly StableDiffusionModel sd1 = PipelineModels.Sd1();
    private readonly StableDiffusionModel sd2 = PipelineModels.Sd2();
    private readonly StableDiffusionModel xl = PipelineModels.Sdxl();

    public void Dispose()
    {
        sd1.Dispose();
        sd2.Dispose();
        xl.Dispose();
    }

    [Fact]
    public void Sd1_captions_are_the_last_layer_through_the_final_layer_norm_and_clip_skip_takes_an_earlier_one()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        string[] captions = ["a photo of a cat", "a red square on a blue background"];
        var ids = Ids(sd1.Tokenizer, captions, padWithZero: false);
        using var reference = sd1.TextEncoder.forward(ids);

        using var plain = TextConditioner.ForModel(sd1).EncodeCaptions(captions);
        Assert.Equal([2L, 77, 32], plain.Context.shape);
        Assert.Null(plain.Pooled);
        Assert.True(plain.Context.equal(reference.LastHiddenState).all().item<bool>());

        var skipped = TextConditioner.ForModel(sd1, clipSkip: 2);
        using var two = skipped.EncodeCaptions(captions);
        Assert.Equal(2, skipped.ClipSkip);
        Assert.False(two.Context.allclose(plain.Context, 1e-3, 1e-3));
        // The penultimate layer's output through the final LayerNorm (its weights read from the state dict).
        var weights = sd1.TextEncoder.state_dict();
        var expected = nn.functional.layer_norm(reference.HiddenStates[^2], [32], weights["text_model.final_layer_norm.weight"], weights["text_model.final_layer_norm.bias"], sd1.TextEncoder.Config.LayerNormEps);
        Assert.True(two.Context.allclose(expected, 1e-5, 1e-6));
        Assert.Throws<ArgumentOutOfRangeException>(() => TextConditioner.ForModel(sd1, clipSkip: sd1.TextEncoder.Config.NumHiddenLayers + 1));
    }

    [Fact]
    public void Sdxl_context_is_both_penultimate_layers_side_by_side_and_the_pooled_output_is_the_second_projection()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        string[] captions = ["a green star", "a yellow heart, top left"];
        var conditioner = TextConditioner.ForModel(xl);
        using var text = conditioner.EncodeCaptions(captions);

        using var first = xl.TextEncoder.forward(Ids(xl.Tokenizer, captions, padWithZero: false));
        using var second = xl.TextEncoder2!.forward(Ids(xl.Tokenizer2!, captions, padWithZero: true));
        var expected = cat([first.HiddenStates[^2], second.HiddenStates[^2]], -1);
        Assert.Equal(2, conditioner.ClipSkip);
        Assert.Equal(conditioner.ContextWidth, text.Context.shape[2]);
        Assert.True(text.Context.equal(expected).all().item<bool>());
        Assert.True(text.Pooled!.equal(second.TextEmbeds!).all().item<bool>());

        // A clip skip set for SDXL (as a training config may) moves both encoders to that layer, still without the LayerNorm.
        using var last = TextConditioner.ForModel(xl, clipSkip: 1).EncodeCaptions(captions);
        Assert.True(last.Context.equal(cat([first.HiddenStates[^1], second.HiddenStates[^1]], -1)).all().item<bool>());
    }

    [Fact]
    public void Captions_are_plain_text_cut_to_75_tokens_while_prompts_follow_a1111_syntax()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var conditioner = TextConditioner.ForModel(sd1);

        // Brackets in a caption are text: the caption encodes exactly the tokenizer's ids of the literal string.
        const string weighted = "a (cat:1.5) on a [table]";
        using var caption = conditioner.EncodeCaptions([weighted]);
        using var literal = conditioner.EncodeTokenIds([Ids(sd1.Tokenizer, [weighted], padWithZero: false)]);
        Assert.True(caption.Context.equal(literal.Context).all().item<bool>());
        using var prompt = conditioner.EncodePrompt(weighted);
        Assert.False(prompt.Context.allclose(caption.Context, 1e-4, 1e-4));

        // A long caption is cut (one 77-token window); the same text as a prompt takes two chunks.
        var longText = string.Join(", ", Enumerable.Range(0, 60).Select(i => $"word{i}"));
        using var longCaption = conditioner.EncodeCaptions([longText]);
        Assert.Equal(77, longCaption.Context.shape[1]);
        Assert.True(conditioner.ChunkCount(longText) >= 2);
        Assert.Equal(77L * conditioner.ChunkCount(longText), conditioner.EncodePrompt(longText).Context.shape[1]);
    }

    [Theory]
    [InlineData("sd1")]
    [InlineData("sd2")]
    [InlineData("xl")]
    public void A_short_plain_prompt_and_the_same_caption_give_the_same_conditioning(string name)
    {
        // A1111 and kohya agree on a short text without syntax: BOS, tokens, EOS, the model's padding (OpenCLIP pads with 0).
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var model = name switch { "sd1" => sd1, "sd2" => sd2, _ => xl };
        var conditioner = TextConditioner.ForModel(model);
        using var prompt = conditioner.EncodePrompt("a small blue circle");
        using var caption = conditioner.EncodeCaptions(["a small blue circle"]);
        Assert.True(prompt.Context.equal(caption.Context).all().item<bool>());
        Assert.Equal(prompt.Pooled is null, caption.Pooled is null);
        if (prompt.Pooled is { } pooled)
        {
            Assert.True(pooled.equal(caption.Pooled!).all().item<bool>());
        }
    }

    [Fact]
    public void Gradients_reach_the_text_encoder_only_when_recorded()
    {
        using var scope = NewDisposeScope();
        var conditioner = TextConditioner.ForModel(xl);
        using (no_grad())
        {
            Assert.False(conditioner.EncodeCaptions(["a cat"]).Context.requires_grad);
        }

        var text = conditioner.EncodeCaptions(["a cat", "a dog"]);
        (text.Context.square().mean() + text.Pooled!.square().mean()).backward();
        Assert.All(new[] { xl.TextEncoder.TokenEmbedding.weight!, xl.TextEncoder2!.TokenEmbedding.weight! }, w => Assert.True(w.grad is { } g && g.abs().sum().item<float>() > 0));
    }

    [Fact]
    public void Embedding_vectors_from_a_trainable_source_are_spliced_in_and_receive_gradients()
    {
        using var scope = NewDisposeScope();
        Assert.True(sd1.Tokenizer.TryGetTokenId("cat</w>", out var catId));
        var vectors = new TrainableVectors(sd1.Tokenizer.Encode("zzconcept"), sd1.TextEncoder.TokenEmbedding.weight![catId].unsqueeze(0).detach().clone());
        var conditioner = TextConditioner.ForModel(sd1, embeddings: vectors);

        // The vector equal to "cat"'s token embedding reproduces the word "cat".
        using (no_grad())
        {
            using var withEmbedding = conditioner.EncodePrompt("a photo of zzconcept");
            using var withWord = conditioner.EncodePrompt("a photo of cat");
            Assert.True(withEmbedding.Context.allclose(withWord.Context, 1e-5, 1e-5));
        }

        conditioner.EncodePrompt("a photo of zzconcept").Context.square().mean().backward();
        Assert.True(vectors.Vector.grad is { } grad && grad.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Unet_inputs_carry_each_rows_size_and_crop_for_sdxl_and_nothing_extra_for_sd1()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        SizeConditioning[] sizes = [new(600, 800, 12, 34, 512, 768), SizeConditioning.Uncropped(width: 640, height: 320)];
        var xlInputs = TextConditioner.ForUnet(TextConditioner.ForModel(xl).EncodeCaptions(["a", "b"]), sizes, ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, xlInputs.Context.dtype);
        Assert.Equal(new float[] { 600, 800, 12, 34, 512, 768, 320, 640, 0, 0, 320, 640 }, xlInputs.Added!.TimeIds.to(ScalarType.Float32).data<float>().ToArray());
        Assert.Equal(ScalarType.BFloat16, xlInputs.Added.TextEmbeds.dtype);
        Assert.Throws<ArgumentException>(() => TextConditioner.ForUnet(TextConditioner.ForModel(xl).EncodeCaptions(["a"]), sizes, ScalarType.Float32));

        var sd1Inputs = TextConditioner.ForUnet(TextConditioner.ForModel(sd1).EncodeCaptions(["a", "b"]), sizes, ScalarType.Float32);
        Assert.Null(sd1Inputs.Added);
    }

    [Fact]
    public void Batching_repeats_each_conditioning_per_image_in_order()
    {
        using var scope = NewDisposeScope();
        var a = new TextConditioning(full([1, 77, 4], 1f), full([1, 3], 10f));
        var b = new TextConditioning(full([1, 77, 4], 2f), full([1, 3], 20f));
        var batch = TextConditioning.Batch([a, b], repeat: 2);
        Assert.Equal(new float[] { 1, 1, 2, 2 }, batch.Context[.., 0, 0].data<float>().ToArray());
        Assert.Equal(new float[] { 10, 10, 20, 20 }, batch.Pooled![.., 0].data<float>().ToArray());
        var roundTrip = TextConditioning.FromTensors(a.ToTensors());
        Assert.Same(a.Pooled, roundTrip.Pooled);
    }

    /// <summary>The token ids of texts built here from the tokenizer's raw ids: BOS, at most 75 ids, EOS, padding to 77.</summary>
    private static Tensor Ids(SdTune.Text.ClipTokenizer tokenizer, IReadOnlyList<string> texts, bool padWithZero)
    {
        var rows = new List<long>();
        foreach (var text in texts)
        {
            var ids = tokenizer.Encode(text).Take(75).Select(i => (long)i).ToList();
            var row = new List<long> { tokenizer.BosTokenId };
            row.AddRange(ids);
            row.Add(tokenizer.EosTokenId);
            while (row.Count < 77)
            {
                row.Add(padWithZero ? 0 : tokenizer.EosTokenId);
            }

            rows.AddRange(row);
        }

        return tensor(rows.ToArray(), [texts.Count, 77]);
    }

    /// <summary>A stand-in for a method that trains an embedding: one trainable vector under one name.</summary>
    private sealed class TrainableVectors : IEmbeddingVectors
    {
        public TrainableVectors(IReadOnlyList<int> nameTokens, Tensor initial)
        {
            Vector = new Parameter(initial);
            Index.Add("zzconcept", nameTokens, 1);
        }

        public Parameter Vector { get; }

        public EmbeddingTokenIndex Index { get; } = new();

        public Tensor VectorsFor(string name, string encoderKey) => Vector;
    }
}
