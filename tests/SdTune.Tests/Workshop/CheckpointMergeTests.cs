using System.Text.Json;
using System.Text.RegularExpressions;
using SdTune.Checkpoints.Pickle;
using SdTune.Checkpoints.Safetensors;
using SdTune.Workshop.Merge;
using static SdTune.Tests.Workshop.TinyCheckpoints;
using static TorchSharp.torch;

namespace SdTune.Tests.Workshop;

/// <summary>Checkpoint merges on tiny checkpoints with the real key names of SD 1.5 and SDXL.</summary>
public class CheckpointMergeTests
{
    private static int BlockCount(string manifest) => manifest == Sd1 ? 25 : 19;

    /// <summary>The α of a key by the documented rule, written independently of the library: [BASE, blocks...].</summary>
    private static double ExpectedAlpha(string key, IReadOnlyList<double> withBase)
    {
        var perSide = (withBase.Count - 2) / 2;
        var match = Regex.Match(key, @"^model\.diffusion_model\.(input_blocks|middle_block|output_blocks)\.(\d+)\.");
        if (!match.Success)
        {
            return withBase[0];
        }

        var index = int.Parse(match.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
        return match.Groups[1].Value switch
        {
            "input_blocks" => withBase[1 + index],
            "middle_block" => withBase[1 + perSide],
            _ => withBase[2 + perSide + index],
        };
    }

    private static void AssertClose(Tensor expected, Tensor actual, string key)
    {
        var difference = (expected.to_type(ScalarType.Float64) - actual.to_type(ScalarType.Float64)).abs().max().item<double>();
        var scale = expected.to_type(ScalarType.Float64).abs().max().item<double>() + 1;
        Assert.True(difference <= 1e-6 * scale, $"{key}: off by {difference}");
    }

    [Theory]
    [InlineData(Sd1)]
    [InlineData(Sdxl)]
    public void Block_weights_all_0_give_model_A_and_all_1_give_model_B_bit_for_bit(string manifest)
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        var a = Write(dir.File("a.safetensors"), manifest, 1, ScalarType.Float16);
        var b = Write(dir.File("b.safetensors"), manifest, 2, ScalarType.Float16);
        foreach (var value in new[] { 0.0, 1.0 })
        {
            var output = dir.File($"merged-{value}.safetensors");
            var report = CheckpointMerge.Run(new MergeRecipe
            {
                ModelA = dir.File("a.safetensors"),
                ModelB = dir.File("b.safetensors"),
                Alpha = value,
                BlockWeights = Enumerable.Repeat(value, BlockCount(manifest)).ToArray(),
                Output = output,
            });
            var merged = Read(output);
            Assert.Equal(a.Keys.Order(StringComparer.Ordinal), merged.Keys.Order(StringComparer.Ordinal));
            Assert.Equal(a.Count, report.Tensors);
            Assert.Equal(a.Keys.Count(IsMergedKey), report.Merged);
            foreach (var (key, tensor) in merged)
            {
                var expected = value == 1 && IsMergedKey(key) ? b[key] : a[key];
                Assert.True(SameBits(expected, tensor), $"{key} (alpha {value}) is not the model's own tensor");
            }
        }
    }

    [Fact]
    public void Weighted_sum_with_block_weights_matches_a_direct_computation()
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        var a = Write(dir.File("a.safetensors"), Sd1, 1);
        var b = Write(dir.File("b.safetensors"), Sd1, 2);
        TorchCheckpointWriter.Save(dir.File("b.ckpt"), b, wrapperKey: "state_dict"); // a pickle checkpoint reads the same
        var weights = Enumerable.Range(0, 26).Select(i => 0.04 * i - 0.1).ToArray(); // BASE first, as SuperMerger writes it
        CheckpointMerge.Run(new MergeRecipe { ModelA = dir.File("a.safetensors"), ModelB = dir.File("b.ckpt"), BlockWeights = weights, Output = dir.File("m.safetensors") });

        var merged = Read(dir.File("m.safetensors"));
        foreach (var (key, tensor) in merged)
        {
            var alpha = ExpectedAlpha(key, weights);
            var expected = IsMergedKey(key) ? a[key].to_type(ScalarType.Float64) * (1 - alpha) + b[key].to_type(ScalarType.Float64) * alpha : a[key];
            Assert.Equal(ScalarType.Float32, tensor.dtype == ScalarType.Int64 ? ScalarType.Float32 : tensor.dtype);
            AssertClose(expected, tensor, key);
        }
    }

    [Fact]
    public void Add_difference_with_block_weights_matches_a_direct_computation_and_writes_the_asked_dtype()
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        var a = Write(dir.File("a.safetensors"), Sdxl, 1, ScalarType.Float16);
        var b = Write(dir.File("b.safetensors"), Sdxl, 2, ScalarType.Float16);
        var c = Write(dir.File("c.safetensors"), Sdxl, 3, ScalarType.Float16);
        var blocks = Enumerable.Range(0, 19).Select(i => 1.0 - 0.05 * i).ToArray();
        var report = CheckpointMerge.Run(new MergeRecipe
        {
            ModelA = dir.File("a.safetensors"),
            ModelB = dir.File("b.safetensors"),
            ModelC = dir.File("c.safetensors"),
            Mode = MergeMode.AddDifference,
            Alpha = 0.3,
            BlockWeights = blocks,
            DType = ScalarType.Float32,
            Output = dir.File("m.safetensors"),
        });

        Assert.Equal(9, report.Weights.BlocksPerSide);
        var merged = Read(dir.File("m.safetensors"));
        double[] withBase = [0.3, .. blocks];
        foreach (var (key, tensor) in merged)
        {
            if (!IsMergedKey(key))
            {
                Assert.True(SameBits(a[key], tensor), $"{key} is not A's"); // buffers keep A's type and values
                continue;
            }

            Assert.Equal(ScalarType.Float32, tensor.dtype);
            var expected = a[key].to_type(ScalarType.Float64) + (b[key].to_type(ScalarType.Float64) - c[key].to_type(ScalarType.Float64)) * ExpectedAlpha(key, withBase);
            AssertClose(expected, tensor, key);
        }
    }

    [Theory]
    [InlineData(Sd1, 12)]
    [InlineData(Sdxl, 9)]
    public void Keys_belong_to_the_IN_M_OUT_blocks_of_their_layout(string manifest, int perSide)
    {
        var keys = KeyConversionExecutorTestsKeys(manifest);
        Assert.Equal(perSide, MergeBlockWeights.BlocksPerSideOf(keys));
        var seen = keys.Select(MergeBlockWeights.BlockOf).OfType<MergeBlock>().Distinct().Select(b => b.Name);
        Assert.Equal(MergeBlockWeights.Blocks(perSide).Select(b => b.Name).Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));

        var last = (perSide - 1).ToString("00", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal("IN00", MergeBlockWeights.BlockOf("model.diffusion_model.input_blocks.0.0.weight")?.Name);
        Assert.Equal("IN" + last, MergeBlockWeights.BlockOf($"model.diffusion_model.input_blocks.{perSide - 1}.0.in_layers.0.weight")?.Name);
        Assert.Equal("M00", MergeBlockWeights.BlockOf("model.diffusion_model.middle_block.1.proj_in.weight")?.Name);
        Assert.Equal("OUT00", MergeBlockWeights.BlockOf("model.diffusion_model.output_blocks.0.0.in_layers.0.weight")?.Name);
        Assert.Equal("OUT" + last, MergeBlockWeights.BlockOf($"model.diffusion_model.output_blocks.{perSide - 1}.0.skip_connection.weight")?.Name);
        foreach (var outside in new[]
        {
            "model.diffusion_model.time_embed.0.weight", "model.diffusion_model.label_emb.0.0.weight", "model.diffusion_model.out.2.weight",
            "first_stage_model.encoder.conv_in.weight", "cond_stage_model.transformer.text_model.final_layer_norm.weight",
            "conditioner.embedders.1.model.transformer.resblocks.0.attn.in_proj_weight", "model_ema.diffusion_modelinput_blocks01weight",
        })
        {
            Assert.Null(MergeBlockWeights.BlockOf(outside));
        }

        var weights = MergeBlockWeights.FromVector([.. Enumerable.Range(0, 2 * perSide + 1).Select(i => (double)i)], perSide, 0.25, "model");
        Assert.Equal(perSide, weights.AlphaOf("model.diffusion_model.middle_block.0.in_layers.0.weight"));
        Assert.Equal(perSide + 1, weights.AlphaOf("model.diffusion_model.output_blocks.0.0.in_layers.0.weight"));
        Assert.Equal(0.25, weights.AlphaOf("model.diffusion_model.time_embed.0.weight"));
        Assert.Equal(0.25, weights.AlphaOf("model.diffusion_model.out.0.weight"));
    }

    private static List<string> KeyConversionExecutorTestsKeys(string manifest) =>
        [.. SdTune.Tests.Checkpoints.SingleFile.Manifests.Shapes(manifest).Keys];

    [Fact]
    public void Checkpoints_of_different_architectures_are_refused_naming_the_file()
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        Write(dir.File("sd15.safetensors"), Sd1, 1);
        Write(dir.File("sdxl.safetensors"), Sdxl, 2);
        var error = Assert.Throws<ArgumentException>(() => CheckpointMerge.Run(new MergeRecipe
        {
            ModelA = dir.File("sd15.safetensors"),
            ModelB = dir.File("sdxl.safetensors"),
            Output = dir.File("m.safetensors"),
        }));
        Assert.StartsWith(dir.File("sdxl.safetensors") + ": an SDXL base checkpoint", error.Message, StringComparison.Ordinal);
        Assert.Contains("SD 1.x", error.Message, StringComparison.Ordinal);
        Assert.Contains("different architectures", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("m.safetensors")));
        Assert.Equal(2, Directory.GetFiles(dir.Path).Length); // no temporary file left behind
    }

    [Theory]
    [InlineData(Sd1, 19, "25", "26")]
    [InlineData(Sd1, 27, "25", "26")]
    [InlineData(Sdxl, 25, "19", "20")]
    public void A_block_weight_vector_of_the_wrong_length_is_refused_naming_the_option_and_the_lengths(string manifest, int count, string blocks, string withBase)
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        Write(dir.File("a.safetensors"), manifest, 1);
        Write(dir.File("b.safetensors"), manifest, 2);
        var error = Assert.Throws<ArgumentException>(() => CheckpointMerge.Run(new MergeRecipe
        {
            ModelA = dir.File("a.safetensors"),
            ModelB = dir.File("b.safetensors"),
            BlockWeights = new double[count],
            Output = dir.File("m.safetensors"),
        }));
        Assert.StartsWith($"--block-weights: {count} values given", error.Message, StringComparison.Ordinal);
        Assert.Contains($"give {blocks} (", error.Message, StringComparison.Ordinal);
        Assert.Contains($"or {withBase} (BASE first", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("m.safetensors")));

        var twice = Assert.Throws<ArgumentException>(() => MergeBlockWeights.FromVector(new double[int.Parse(withBase, System.Globalization.CultureInfo.InvariantCulture)], int.Parse(blocks, System.Globalization.CultureInfo.InvariantCulture) / 2, 0.5, "m"));
        Assert.Contains("--alpha", twice.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_output_is_never_one_of_the_inputs()
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        Write(dir.File("a.safetensors"), Sd1, 1);
        Write(dir.File("b.safetensors"), Sd1, 2);
        Write(dir.File("c.safetensors"), Sd1, 3);
        var before = Directory.GetFiles(dir.Path).ToDictionary(f => f, File.ReadAllBytes);
        var spellings = new[]
        {
            dir.File("a.safetensors"), Path.Combine(dir.Path, ".", "b.safetensors"), Path.Combine(dir.Path, "sub", "..", "c.safetensors"),
        };
        foreach (var output in spellings)
        {
            var error = Assert.Throws<ArgumentException>(() => CheckpointMerge.Run(new MergeRecipe
            {
                ModelA = dir.File("a.safetensors"),
                ModelB = dir.File("b.safetensors"),
                ModelC = dir.File("c.safetensors"),
                Mode = MergeMode.AddDifference,
                Output = output,
            }));
            Assert.Contains("never overwrites an input", error.Message, StringComparison.Ordinal);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.CreateSymbolicLink(dir.File("link.safetensors"), dir.File("a.safetensors"));
            Assert.Throws<ArgumentException>(() => CheckpointMerge.Run(new MergeRecipe { ModelA = dir.File("b.safetensors"), ModelB = dir.File("a.safetensors"), Output = dir.File("link.safetensors") }));
            File.Delete(dir.File("link.safetensors"));
            Directory.CreateSymbolicLink(dir.File("linked-folder"), dir.Path);
            Assert.Throws<ArgumentException>(() => CheckpointMerge.Run(new MergeRecipe { ModelA = dir.File("b.safetensors"), ModelB = dir.File("a.safetensors"), Output = Path.Combine(dir.File("linked-folder"), "a.safetensors") }));
            Directory.Delete(dir.File("linked-folder"));
        }

        Assert.Equal(before.Keys.Order(), Directory.GetFiles(dir.Path).Order());
        Assert.All(before, f => Assert.Equal(f.Value, File.ReadAllBytes(f.Key)));
    }

    [Fact]
    public void Mismatched_shapes_are_refused_naming_the_tensor_and_the_file()
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        const string Key = "model.diffusion_model.output_blocks.3.0.in_layers.2.weight";
        Write(dir.File("a.safetensors"), Sd1, 1);
        Write(dir.File("b.safetensors"), Sd1, 2, change: (name, shape) => name == Key ? [3, .. shape[1..]] : shape);
        var error = Assert.Throws<ArgumentException>(() => CheckpointMerge.Run(new MergeRecipe { ModelA = dir.File("a.safetensors"), ModelB = dir.File("b.safetensors"), Output = dir.File("m.safetensors") }));
        Assert.StartsWith(dir.File("b.safetensors") + $": tensor '{Key}' has shape [3, ", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("m.safetensors")));
    }

    [Fact]
    public void An_inpainting_model_A_merges_only_the_channels_the_plain_models_have()
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        const string Key = "model.diffusion_model.input_blocks.0.0.weight";
        var a = Write(dir.File("inpaint.safetensors"), Sd1, 1, change: (name, shape) => name == Key ? [shape[0], 9, .. shape[2..]] : shape);
        var b = Write(dir.File("b.safetensors"), Sd1, 2);
        var c = Write(dir.File("c.safetensors"), Sd1, 3);
        var report = CheckpointMerge.Run(new MergeRecipe
        {
            ModelA = dir.File("inpaint.safetensors"),
            ModelB = dir.File("b.safetensors"),
            ModelC = dir.File("c.safetensors"),
            Mode = MergeMode.AddDifference,
            Alpha = 1,
            Output = dir.File("m.safetensors"),
        });
        Assert.True(report.LeadingChannelsOnly);
        var merged = Read(dir.File("m.safetensors"))[Key];
        Assert.Equal([a[Key].shape[0], 9L, 3, 3], merged.shape);
        AssertClose(a[Key].narrow(1, 0, 4) + b[Key] - c[Key], merged.narrow(1, 0, 4), Key);
        Assert.True(SameBits(a[Key].narrow(1, 4, 5).contiguous(), merged.narrow(1, 4, 5).contiguous()));

        var reversed = Assert.Throws<ArgumentException>(() => CheckpointMerge.Run(new MergeRecipe { ModelA = dir.File("b.safetensors"), ModelB = dir.File("inpaint.safetensors"), Output = dir.File("r.safetensors") }));
        Assert.Contains("give it as model A", reversed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Components_from_A_discarded_keys_and_keys_of_one_model_only_are_handled_and_reported()
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        const string Missing = "model.diffusion_model.input_blocks.1.0.in_layers.2.bias";
        var a = Write(dir.File("a.safetensors"), Sd1, 1, metadata: new Dictionary<string, string> { ["modelspec.prediction_type"] = "epsilon" });
        var b = Write(dir.File("b.safetensors"), Sd1, 2, change: (name, shape) => name == Missing ? null : shape);
        using (var extra = SafetensorsFile.Open(dir.File("b.safetensors")))
        {
            var tensors = extra.ReadAll().Append(new("model.diffusion_model.extra.weight", ones(2))).ToList();
            SafetensorsWriter.Save(dir.File("b2.safetensors"), tensors);
        }

        var report = CheckpointMerge.Run(new MergeRecipe
        {
            ModelA = dir.File("a.safetensors"),
            ModelB = dir.File("b2.safetensors"),
            Alpha = 0.5,
            TextEncoder = MergeComponentSource.A,
            Discard = @"^first_stage_model\.decoder\.",
            Output = Path.Combine(dir.Path, "out", "m.safetensors"),
        });

        var merged = Read(dir.File("out/m.safetensors"));
        Assert.DoesNotContain(merged.Keys, k => k.StartsWith("first_stage_model.decoder.", StringComparison.Ordinal));
        Assert.Equal(a.Keys.Count(k => k.StartsWith("first_stage_model.decoder.", StringComparison.Ordinal)), report.Discarded);
        Assert.Equal([Missing], report.OnlyInA);
        Assert.Equal(1, report.NotInA);
        Assert.DoesNotContain("model.diffusion_model.extra.weight", merged.Keys);
        Assert.True(SameBits(a[Missing], merged[Missing]));
        Assert.All(merged.Where(e => e.Key.StartsWith("cond_stage_model.", StringComparison.Ordinal)), e => Assert.True(SameBits(a[e.Key], e.Value), e.Key));
        const string Vae = "first_stage_model.encoder.conv_in.weight";
        AssertClose((a[Vae] + b[Vae]) / 2, merged[Vae], Vae);
        Assert.Equal(2, report.Warnings().Count);

        using var file = SafetensorsFile.Open(dir.File("out/m.safetensors"));
        Assert.Equal("epsilon", file.Metadata["modelspec.prediction_type"]);
        using var recipe = JsonDocument.Parse(file.Metadata["sd_merge_recipe"]);
        Assert.Equal("weighted-sum", recipe.RootElement.GetProperty("mode").GetString());
        Assert.Equal("a.safetensors", recipe.RootElement.GetProperty("model_a").GetString());
    }

    [Fact]
    public void A_baked_in_vae_replaces_the_checkpoints_vae()
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        var a = Write(dir.File("a.safetensors"), Sd1, 1);
        Write(dir.File("b.safetensors"), Sd1, 2);
        var vae = a.Where(e => e.Key.StartsWith("first_stage_model.", StringComparison.Ordinal))
            .ToDictionary(e => e.Key["first_stage_model.".Length..], e => randn_like(e.Value));
        SafetensorsWriter.Save(dir.File("vae.safetensors"), vae);
        var report = CheckpointMerge.Run(new MergeRecipe { ModelA = dir.File("a.safetensors"), ModelB = dir.File("b.safetensors"), BakeVae = dir.File("vae.safetensors"), Output = dir.File("m.safetensors") });

        Assert.Equal(vae.Count, report.BakedVae);
        var merged = Read(dir.File("m.safetensors"));
        Assert.All(vae, e => Assert.True(SameBits(e.Value, merged["first_stage_model." + e.Key]), e.Key));

        // A diffusers-layout VAE has none of the original names.
        SafetensorsWriter.Save(dir.File("diffusers-vae.safetensors"), [new("encoder.down_blocks.0.resnets.0.conv1.weight", ones(2, 2, 3, 3))]);
        var wrong = Assert.Throws<ArgumentException>(() => CheckpointMerge.Run(new MergeRecipe { ModelA = dir.File("a.safetensors"), ModelB = dir.File("b.safetensors"), BakeVae = dir.File("diffusers-vae.safetensors"), Output = dir.File("w.safetensors") }));
        Assert.StartsWith(dir.File("diffusers-vae.safetensors") + ": none of its tensors", wrong.Message, StringComparison.Ordinal);
    }
}
