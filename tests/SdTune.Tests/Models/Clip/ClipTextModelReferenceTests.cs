using SdTune.Models.Clip;
using static TorchSharp.torch;

namespace SdTune.Tests.Models.Clip;

/// <summary>Numerics against the reference outputs of OpenAI CLIP on the tiny fixture (README §3).</summary>
public class ClipTextModelReferenceTests
{
    private const double Float32Tolerance = 1e-4;
    private const double Float64Tolerance = 1e-10;

    [Fact]
    public void Float32_forward_matches_every_reference_output()
    {
        using var scope = NewDisposeScope();
        using var model = ClipTextFixture.LoadModel();
        var ids = ClipTextFixture.Read("input.input_ids");
        using var noGrad = no_grad();
        var output = model.forward(ids);

        Assert.Equal(3, output.HiddenStates.Count);
        var actual = new Dictionary<string, Tensor>
        {
            ["hidden_states.0"] = output.HiddenStates[0],
            ["hidden_states.1"] = output.HiddenStates[1],
            ["hidden_states.2"] = output.HiddenStates[2],
            ["penultimate_hidden_state"] = model.SelectHiddenState(output, clipSkip: 2, applyFinalLayerNorm: false),
            ["penultimate_hidden_state_final_layer_norm"] = model.SelectHiddenState(output, clipSkip: 2, applyFinalLayerNorm: true),
            ["last_hidden_state"] = output.LastHiddenState,
            ["pooler_output"] = output.PooledOutput,
            ["text_embeds"] = output.TextEmbeds!,
        };

        foreach (var (name, tensor) in actual)
        {
            Assert.Equal(ScalarType.Float32, tensor.dtype);
            var diff = ClipTextFixture.MaxAbsDiff(tensor, ClipTextFixture.Read("output." + name));
            Assert.True(diff <= Float32Tolerance, $"output.{name}: max abs diff {diff:E3}");
            if (name is "penultimate_hidden_state" or "last_hidden_state" or "pooler_output" or "text_embeds")
            {
                var diff64 = ClipTextFixture.MaxAbsDiff(tensor, ClipTextFixture.Read("output_f64." + name));
                Assert.True(diff64 <= Float32Tolerance, $"output_f64.{name}: max abs diff {diff64:E3}");
            }
        }
    }

    [Fact]
    public void Float64_forward_matches_the_float64_reference_to_rounding()
    {
        using var scope = NewDisposeScope();
        using var model = ClipTextFixture.LoadModel(ScalarType.Float64);
        var ids = ClipTextFixture.Read("input.input_ids");
        using var noGrad = no_grad();
        var output = model.forward(ids);

        var actual = new Dictionary<string, Tensor>
        {
            ["penultimate_hidden_state"] = output.HiddenStates[^2],
            ["last_hidden_state"] = output.LastHiddenState,
            ["pooler_output"] = output.PooledOutput,
            ["text_embeds"] = output.TextEmbeds!,
        };
        foreach (var (name, tensor) in actual)
        {
            Assert.Equal(ScalarType.Float64, tensor.dtype);
            var diff = ClipTextFixture.MaxAbsDiff(tensor, ClipTextFixture.Read("output_f64." + name));
            Assert.True(diff <= Float64Tolerance, $"output_f64.{name}: max abs diff {diff:E3}");
        }
    }

    [Theory]
    [InlineData(1, false, "hidden_states.2")]
    [InlineData(1, true, "last_hidden_state")]
    [InlineData(2, false, "penultimate_hidden_state")]
    [InlineData(2, true, "penultimate_hidden_state_final_layer_norm")]
    public void Encode_with_clip_skip_matches_the_reference_state(int clipSkip, bool applyFinalLayerNorm, string expected)
    {
        using var scope = NewDisposeScope();
        using var model = ClipTextFixture.LoadModel();
        var ids = ClipTextFixture.Read("input.input_ids");
        using var noGrad = no_grad();

        var encoded = model.Encode(ids, clipSkip, applyFinalLayerNorm);

        var diff = ClipTextFixture.MaxAbsDiff(encoded, ClipTextFixture.Read("output." + expected));
        Assert.True(diff <= Float32Tolerance, $"{expected}: max abs diff {diff:E3}");
    }

    [Fact]
    public void Pooled_output_is_taken_at_the_first_eos_token_of_each_row()
    {
        using var scope = NewDisposeScope();
        using var model = ClipTextFixture.LoadModel();
        var ids = ClipTextFixture.Read("input.input_ids");

        var index = model.PooledTokenIndex(ids);

        // "a photo of an astronaut riding a horse on mars": bos + 10 tokens, so the first eos is at 11.
        Assert.Equal(11L, index[0].item<long>());
        var row1 = ids[1].data<long>().ToArray();
        Assert.Equal(Array.IndexOf(row1, 49407L), (int)index[1].item<long>());
    }

    [Theory]
    [InlineData(49407)]
    [InlineData(2)] // the published SD configs' placeholder: falls back to the largest id
    public void Pooled_token_is_the_eos_with_OpenClip_zero_padding(int configEos)
    {
        using var scope = NewDisposeScope();
        using var model = new ClipTextModel(ClipTextFixture.Config with { EosTokenId = configEos }, device: META);
        long[] openClipRow = [49406, 320, 1125, 49407, 0, 0, 0, 0];
        long[] sd1Row = [49406, 320, 1125, 539, 49407, 49407, 49407, 49407];
        var ids = tensor(openClipRow.Concat(sd1Row).ToArray()).view(2, 8);

        var index = model.PooledTokenIndex(ids);

        Assert.Equal([3L, 4L], index.data<long>().ToArray());
    }

    [Fact]
    public void A_row_without_the_eos_id_pools_at_its_largest_id()
    {
        using var scope = NewDisposeScope();
        using var model = new ClipTextModel(ClipTextFixture.Config, device: META);
        var ids = tensor(new long[] { 320, 9000, 1125, 0, 0 }).view(1, 5);

        Assert.Equal(1L, model.PooledTokenIndex(ids).item<long>());
    }
}
