using SdTune.Checkpoints.Safetensors;
using SdTune.Checkpoints.SingleFile;
using SdTune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.SingleFile;

/// <summary>Tensor values through the executor, on tiny checkpoints with the real names and cheap shapes.</summary>
public class KeyConversionExecutorTests
{
    /// <summary>
    /// The manifest's names with tiny shapes that keep what the conversion depends on: the 4-D UNet input conv with
    /// 4 channels, the cross-attention width, fused in_proj rows divisible by 3, a non-square text_projection, and
    /// 1x1-conv VAE attention weights.
    /// </summary>
    internal static Dictionary<string, long[]> Tiny(string manifest) =>
        Manifests.Shapes(manifest).ToDictionary(e => e.Key, e => TinyShape(e.Key, e.Value));

    private static long[] TinyShape(string name, long[] shape)
    {
        if (name.EndsWith("input_blocks.0.0.weight", StringComparison.Ordinal))
        {
            return [2, shape[1], 3, 3];
        }

        if (name.EndsWith(".attn2.to_k.weight", StringComparison.Ordinal) || name.EndsWith(".attn2.to_v.weight", StringComparison.Ordinal))
        {
            return [2, shape[1]];
        }

        if (name.EndsWith("attn.in_proj_weight", StringComparison.Ordinal))
        {
            return [6, 2];
        }

        if (name.EndsWith("attn.in_proj_bias", StringComparison.Ordinal))
        {
            return [6];
        }

        if (name.EndsWith(".text_projection", StringComparison.Ordinal))
        {
            return [2, 3];
        }

        return [.. shape.Select(d => Math.Min(d, 2L))];
    }

    /// <summary>Distinct values per tensor: index * 1000 + element index.</summary>
    private static Dictionary<string, Tensor> Fill(Dictionary<string, long[]> shapes)
    {
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var index = 0;
        foreach (var (name, shape) in shapes)
        {
            var count = shape.Aggregate(1L, (a, b) => a * b);
            tensors[name] = (arange(count, dtype: ScalarType.Float32) + index++ * 1000).reshape(shape);
        }

        return tensors;
    }

    private static bool Same(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && a.dtype == b.dtype && a.eq(b).all().item<bool>();

    [Theory]
    [InlineData("sd15.original.json")]
    [InlineData("sdxl_base.original.json")]
    public void Original_to_diffusers_to_original_gives_the_same_names_and_values(string manifest)
    {
        using var scope = NewDisposeScope();
        var shapes = Tiny(manifest);
        var source = Fill(shapes);
        var detection = SingleFileInspector.Detect(shapes);
        var forward = SingleFileConversionPlan.ToDiffusers(shapes, detection);

        var diffusers = new Dictionary<(SdComponent, string), Tensor>();
        KeyConversionExecutor.Run(forward.Rows, name => source[name].alias(), (row, tensor) => diffusers.Add((row.Component, row.Target), tensor));
        Assert.Equal(forward.Rows.Count, diffusers.Count);

        var components = diffusers.GroupBy(e => e.Key.Item1).ToDictionary(
            g => g.Key, g => (IReadOnlyDictionary<string, long[]>)g.ToDictionary(e => e.Key.Item2, e => e.Value.shape));
        var reverse = SingleFileConversionPlan.ToOriginal(detection.Architecture, components);
        var roundTrip = new Dictionary<string, Tensor>();
        KeyConversionExecutor.Run(reverse.Rows, (component, name) => diffusers[(component, name)].alias(), (row, tensor) => roundTrip.Add(row.Target, tensor));

        Assert.Equal(shapes.Keys.Order(StringComparer.Ordinal), roundTrip.Keys.Order(StringComparer.Ordinal));
        var ignored = forward.Ignored.Select(i => i.Name).ToHashSet();
        foreach (var (name, tensor) in source)
        {
            if (!ignored.Contains(name))
            {
                Assert.True(Same(tensor, roundTrip[name]), $"{name} changed in the round trip");
            }
        }
    }

    [Fact]
    public void Fused_in_proj_rows_go_to_q_k_v_in_order_and_text_projection_is_transposed()
    {
        using var scope = NewDisposeScope();
        var shapes = Tiny("sdxl_base.original.json");
        var source = Fill(shapes);
        var plan = SingleFileConversionPlan.ToDiffusers(shapes, SingleFileInspector.Detect(shapes));
        var produced = new Dictionary<string, Tensor>();
        KeyConversionExecutor.Run(plan.RowsOf(SdComponent.TextEncoder2), name => source[name].alias(), (row, tensor) => produced.Add(row.Target, tensor));

        const string prefix = "conditioner.embedders.1.model.";
        var fused = source[prefix + "transformer.resblocks.7.attn.in_proj_weight"];
        var fusedBias = source[prefix + "transformer.resblocks.7.attn.in_proj_bias"];
        string[] parts = ["q_proj", "k_proj", "v_proj"];
        for (var p = 0; p < 3; p++)
        {
            Assert.True(Same(fused[TensorIndex.Slice(2 * p, 2 * p + 2)], produced[$"text_model.encoder.layers.7.self_attn.{parts[p]}.weight"]), parts[p]);
            Assert.True(Same(fusedBias[TensorIndex.Slice(2 * p, 2 * p + 2)], produced[$"text_model.encoder.layers.7.self_attn.{parts[p]}.bias"]), parts[p] + " bias");
        }

        var projection = source[prefix + "text_projection"];
        var weight = produced["text_projection.weight"];
        Assert.Equal([3L, 2], weight.shape);
        for (var r = 0; r < 3; r++)
        {
            for (var c = 0; c < 2; c++)
            {
                Assert.Equal(projection[c, r].item<float>(), weight[r, c].item<float>());
            }
        }

        Assert.True(Same(source[prefix + "transformer.resblocks.7.mlp.c_fc.weight"], produced["text_model.encoder.layers.7.mlp.fc1.weight"]));
    }

    [Fact]
    public void Vae_attention_convolutions_become_linear_weights_and_the_decoder_is_reversed()
    {
        using var scope = NewDisposeScope();
        var shapes = Tiny("sd15.original.json");
        var source = Fill(shapes);
        var plan = SingleFileConversionPlan.ToDiffusers(shapes, SingleFileInspector.Detect(shapes));
        var produced = new Dictionary<string, Tensor>();
        KeyConversionExecutor.Run(plan.RowsOf(SdComponent.Vae), name => source[name].alias(), (row, tensor) => produced.Add(row.Target, tensor));

        var conv = source["first_stage_model.decoder.mid.attn_1.proj_out.weight"];
        Assert.Equal([2L, 2, 1, 1], conv.shape);
        Assert.True(Same(conv.reshape(2, 2), produced["decoder.mid_block.attentions.0.to_out.0.weight"]));
        Assert.True(Same(source["first_stage_model.decoder.up.3.block.2.conv1.weight"], produced["decoder.up_blocks.0.resnets.2.conv1.weight"]));
        Assert.True(Same(source["first_stage_model.decoder.up.1.upsample.conv.bias"], produced["decoder.up_blocks.2.upsamplers.0.conv.bias"]));
    }

    [Fact]
    public void Streams_a_checkpoint_from_a_safetensors_file()
    {
        using var scope = NewDisposeScope();
        using var temp = TestPaths.NewTempDir();
        var shapes = Tiny("sd15.original.json");
        var source = Fill(shapes);
        var path = temp.File("tiny-sd15.safetensors");
        SafetensorsWriter.Save(path, source, new Dictionary<string, string> { ["modelspec.prediction_type"] = "epsilon" });

        using var file = new SafetensorsTensorSource(path);
        var detection = SingleFileInspector.Detect(file);
        Assert.Equal(SdArchitecture.SD1, detection.Architecture);
        Assert.Contains("modelspec.prediction_type", detection.PredictionSource, StringComparison.Ordinal);
        var plan = SingleFileConversionPlan.ToDiffusers(SingleFileInspector.ShapesOf(file), detection, file.Path);
        plan.EnsureNoUnknown(file.Path);
        var count = 0;
        KeyConversionExecutor.Run(plan.Rows, name => file.Read(name), (row, tensor) =>
        {
            using (tensor)
            {
                Assert.Equal(row.TargetShape, tensor.shape);
                if (row.Op == KeyConversionOp.Rename)
                {
                    Assert.True(Same(source[row.Sources[0]], tensor), row.Target);
                }

                count++;
            }
        });
        Assert.Equal(686 + 248 + 197, count);
    }

    [Fact]
    public void Generated_schedule_buffers_match_the_reference_schedule()
    {
        using var scope = NewDisposeScope();
        var plan = SingleFileConversionPlan.ToOriginal(SdArchitecture.SD1, new Dictionary<SdComponent, IReadOnlyDictionary<string, long[]>>());
        Tensor Make(string name) => KeyConversionExecutor.Produce(plan.Rows.Single(r => r.Target == name), _ => throw new InvalidOperationException());

        using var reference = SafetensorsFile.Open(TestPaths.Fixture("schedulers.safetensors"));
        Assert.True(Make("betas").allclose(reference.Read("ddpm.betas", ScalarType.Float32), rtol: 1e-5, atol: 1e-8));
        var cumprod = Make("alphas_cumprod");
        Assert.True(cumprod.allclose(reference.Read("ddpm.alphas_cumprod", ScalarType.Float32), rtol: 1e-5, atol: 1e-8));
        // float32 1 - cumprod cancels digits near t = 0, hence the absolute tolerance.
        Assert.True(Make("sqrt_one_minus_alphas_cumprod").allclose((1 - cumprod).sqrt(), rtol: 1e-5, atol: 1e-5));
        Assert.Equal(1f, Make("alphas_cumprod_prev")[0].item<float>());
        Assert.Equal(12, plan.Rows.Count);

        var xl = SingleFileConversionPlan.ToOriginal(SdArchitecture.SdxlBase, new Dictionary<SdComponent, IReadOnlyDictionary<string, long[]>>
        {
            [SdComponent.TextEncoder] = Manifests.Shapes("clip_l_text.hf.json"),
        });
        var sigmas = KeyConversionExecutor.Produce(xl.Rows.Single(r => r.Target == "denoiser.sigmas"), _ => throw new InvalidOperationException());
        Assert.Equal(0.0292, sigmas[0].item<float>(), 3);
        Assert.Equal(14.6146, sigmas[999].item<float>(), 3);
        var ids = KeyConversionExecutor.Produce(xl.Rows.Single(r => r.Target.EndsWith("position_ids", StringComparison.Ordinal)), _ => throw new InvalidOperationException());
        Assert.Equal(ScalarType.Int64, ids.dtype);
        Assert.Equal([1L, 77], ids.shape);
        Assert.Equal(76L, ids[0, 76].item<long>());
    }

    [Fact]
    public void A_source_of_the_wrong_shape_is_named_in_the_error()
    {
        using var scope = NewDisposeScope();
        var row = new KeyConversion(SdComponent.Unet, ["model.diffusion_model.out.2.bias"], [[4]], "conv_out.bias", [4], KeyConversionOp.Rename);
        var e = Assert.Throws<InvalidDataException>(() => KeyConversionExecutor.Produce(row, _ => zeros(5)));
        Assert.Contains("model.diffusion_model.out.2.bias", e.Message, StringComparison.Ordinal);
        Assert.Contains("[5]", e.Message, StringComparison.Ordinal);
    }
}
