using System.Text.Json;
using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.Models;
using SdTune.Workshop.Lora;
using static TorchSharp.torch;

namespace SdTune.Tests.Workshop;

public class LoraConvertTests
{
    [Theory]
    [InlineData(false, null)]
    [InlineData(true, null)]
    [InlineData(false, ScalarType.Float16)]
    public void Kohya_to_peft_to_kohya_gives_back_the_same_tensors_and_deltas(bool sdxl, ScalarType? dtype)
    {
        using var dir = TestPaths.NewTempDir();
        using var model = WorkshopLoras.Model(sdxl);
        var targets = WorkshopLoras.Targets(model);
        string kohya = dir.File("a.safetensors"), peft = dir.File("a-peft.safetensors"), back = dir.File("a-back.safetensors");
        WorkshopLoras.WriteKohya(kohya, targets, dtype);

        var there = LoraConvert.Run(kohya, peft, targets, to: null);
        Assert.Equal((LoraLayout.Kohya, LoraLayout.Peft), (there.From, there.To));
        Assert.Empty(there.Unmatched);
        using (var file = TensorSources.Open(peft))
        {
            Assert.All(file.Entries, e => Assert.Matches(@"^(unet|text_encoder|text_encoder_2)\..+\.lora_[AB]\.weight$", e.Name));
            Assert.Equal(2 * there.Modules, file.Entries.Count);
            Assert.Contains(file.Entries, e => e.Name.StartsWith(sdxl ? "text_encoder_2." : "text_encoder.", StringComparison.Ordinal));
            Assert.Equal("pt", file.Metadata["format"]);
        }

        var again = LoraConvert.Run(peft, back, targets, to: null);
        Assert.Equal((LoraLayout.Peft, LoraLayout.Kohya, there.Modules), (again.From, again.To, again.Modules));

        var original = WorkshopLoras.Tensors(kohya);
        var returned = WorkshopLoras.Tensors(back);
        Assert.Equal(original.Keys.Order(StringComparer.Ordinal), returned.Keys.Order(StringComparer.Ordinal));
        Assert.All(original, kv => Assert.True(WorkshopLoras.BitEqual(kv.Value, returned[kv.Key]), kv.Key));

        var expected = WorkshopLoras.Deltas(kohya, targets);
        Assert.Contains(expected, kv => kv.Key.EndsWith("_conv1", StringComparison.Ordinal) || kv.Key.EndsWith("_in_layers_2", StringComparison.Ordinal));
        foreach (var path in new[] { peft, back })
        {
            var deltas = WorkshopLoras.Deltas(path, targets);
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), deltas.Keys.Order(StringComparer.Ordinal));
            Assert.All(expected, kv => Assert.True(WorkshopLoras.BitEqual(kv.Value, deltas[kv.Key]), $"{path}: {kv.Key}"));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Peft_to_kohya_to_peft_gives_back_the_same_file_content(bool sdxl)
    {
        using var dir = TestPaths.NewTempDir();
        using var model = WorkshopLoras.Model(sdxl);
        var targets = WorkshopLoras.Targets(model);
        string kohya = dir.File("k.safetensors"), peft = dir.File("p.safetensors"), kohya2 = dir.File("k2.safetensors"), peft2 = dir.File("p2.safetensors");
        WorkshopLoras.WriteKohya(kohya, targets);
        LoraConvert.Run(kohya, peft, targets, LoraLayout.Peft);

        LoraConvert.Run(peft, kohya2, targets, LoraLayout.Kohya);
        LoraConvert.Run(kohya2, peft2, targets, LoraLayout.Peft);

        var first = WorkshopLoras.Tensors(peft);
        var second = WorkshopLoras.Tensors(peft2);
        Assert.Equal(first.Keys.Order(StringComparer.Ordinal), second.Keys.Order(StringComparer.Ordinal));
        Assert.All(first, kv => Assert.True(WorkshopLoras.BitEqual(kv.Value, second[kv.Key]), kv.Key));
        using var a = TensorSources.Open(peft);
        using var b = TensorSources.Open(peft2);
        Assert.Equal(a.Metadata[PeftAdapterMetadata.Key], b.Metadata[PeftAdapterMetadata.Key]);

        var expected = WorkshopLoras.Deltas(peft, targets);
        var deltas = WorkshopLoras.Deltas(peft2, targets);
        Assert.All(expected, kv => Assert.True(WorkshopLoras.BitEqual(kv.Value, deltas[kv.Key]), kv.Key));
    }

    [Fact]
    public void Peft_metadata_is_diffusers_lora_config_with_alpha_patterns()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = WorkshopLoras.Model(sdxl: true);
        var targets = WorkshopLoras.Targets(model);
        WorkshopLoras.WriteKohya(dir.File("k.safetensors"), targets);
        LoraConvert.Run(dir.File("k.safetensors"), dir.File("p.safetensors"), targets, LoraLayout.Peft);

        using var file = TensorSources.Open(dir.File("p.safetensors"));
        using var json = JsonDocument.Parse(file.Metadata[PeftAdapterMetadata.Key]);
        var root = json.RootElement;
        foreach (var prefix in new[] { "unet", "text_encoder", "text_encoder_2" })
        {
            Assert.Equal(4, root.GetProperty(prefix + ".r").GetInt32());
            Assert.Equal(3, root.GetProperty(prefix + ".lora_alpha").GetDouble());
            Assert.True(root.GetProperty(prefix + ".target_modules").GetArrayLength() > 0);
        }

        // Convolutions (rank 2, alpha 1) and the modules given their own alpha are patterns, keyed by module path.
        var unetRanks = root.GetProperty("unet.rank_pattern").EnumerateObject().ToList();
        Assert.NotEmpty(unetRanks);
        Assert.All(unetRanks, p => Assert.Equal(2, p.Value.GetInt32()));
        Assert.Contains(root.GetProperty("unet.alpha_pattern").EnumerateObject(), p => p.Value.GetDouble() == 1);
        Assert.Contains(root.GetProperty("text_encoder.alpha_pattern").EnumerateObject(), p => p.Value.GetDouble() != 1);
        var first = root.GetProperty("unet.target_modules")[0].GetString()!;
        Assert.True(file.Contains("unet." + first + ".lora_A.weight"), first);
    }

    [Fact]
    public void Folded_alpha_writes_alpha_equal_rank_and_the_same_deltas_to_rounding()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = WorkshopLoras.Model(sdxl: false);
        var targets = WorkshopLoras.Targets(model);
        WorkshopLoras.WriteKohya(dir.File("k.safetensors"), targets);
        LoraConvert.Run(dir.File("k.safetensors"), dir.File("f.safetensors"), targets, LoraLayout.Peft, foldAlpha: true);

        using (var file = TensorSources.Open(dir.File("f.safetensors")))
        using (var json = JsonDocument.Parse(file.Metadata[PeftAdapterMetadata.Key]))
        {
            Assert.Equal(4, json.RootElement.GetProperty("unet.lora_alpha").GetDouble());
            Assert.All(json.RootElement.GetProperty("unet.alpha_pattern").EnumerateObject(), p => Assert.Equal(2, p.Value.GetDouble()));
        }

        var expected = WorkshopLoras.Deltas(dir.File("k.safetensors"), targets);
        var folded = WorkshopLoras.Deltas(dir.File("f.safetensors"), targets);
        Assert.All(expected, kv => Assert.True(allclose(kv.Value, folded[kv.Key], rtol: 1e-5, atol: 1e-7), kv.Key));
    }

    [Fact]
    public void Converted_file_changes_the_models_exactly_as_the_original()
    {
        using var dir = TestPaths.NewTempDir();
        using var reference = WorkshopLoras.Model(sdxl: true);
        WorkshopLoras.WriteKohya(dir.File("k.safetensors"), WorkshopLoras.Targets(reference));
        LoraConvert.Run(dir.File("k.safetensors"), dir.File("p.safetensors"), WorkshopLoras.Targets(reference), LoraLayout.Peft);

        // Hooks first (removed exactly), then merged weights; one fresh model per file.
        Dictionary<string, Tensor> Applied(string file)
        {
            using var model = WorkshopLoras.Model(sdxl: true);
            var targets = WorkshopLoras.Targets(model);
            var results = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            using var ids = tensor(new long[] { 49406, 320, 1929, 49407 }).unsqueeze(0);
            using (var hooked = LoraApplier.Apply(targets, file, 0.7, 0.9, LoraApplyMode.Hooks))
            using (no_grad())
            {
                Assert.Empty(hooked.File.UnmatchedKeys);
                results["te.out"] = model.TextEncoder.forward(ids).LastHiddenState.clone();
                results["te2.out"] = model.TextEncoder2!.forward(ids).LastHiddenState.clone();
            }

            using (LoraApplier.Apply(targets, file, 0.7, 0.9, LoraApplyMode.Merge))
            {
                foreach (var (name, weight) in WorkshopLoras.Weights(model))
                {
                    results[name] = weight;
                }
            }

            return results;
        }

        var original = Applied(dir.File("k.safetensors"));
        var converted = Applied(dir.File("p.safetensors"));
        Assert.All(original, kv => Assert.True(WorkshopLoras.BitEqual(kv.Value, converted[kv.Key]), kv.Key));
    }

    [Fact]
    public void Output_never_replaces_the_input_and_other_files_only_when_asked()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = WorkshopLoras.Model(sdxl: false);
        var targets = WorkshopLoras.Targets(model);
        WorkshopLoras.WriteKohya(dir.File("k.safetensors"), targets);
        var before = File.ReadAllBytes(dir.File("k.safetensors"));

        var same = Assert.Throws<ArgumentException>(() => LoraConvert.Run(dir.File("k.safetensors"), dir.File("k.safetensors"), targets, null, overwrite: true));
        Assert.Contains("overwrite the input", same.Message, StringComparison.Ordinal);
        File.WriteAllText(dir.File("taken.safetensors"), "x");
        var exists = Assert.Throws<ArgumentException>(() => LoraConvert.Run(dir.File("k.safetensors"), dir.File("taken.safetensors"), targets, null));
        Assert.Contains("--overwrite", exists.Message, StringComparison.Ordinal);
        LoraConvert.Run(dir.File("k.safetensors"), dir.File("taken.safetensors"), targets, null, overwrite: true);
        Assert.Equal(before, File.ReadAllBytes(dir.File("k.safetensors")));
    }

    [Fact]
    public void Full_size_keys_map_on_meta_models_for_the_detected_family()
    {
        using var dir = TestPaths.NewTempDir();
        // One SD 1.5 module and one SDXL module (kohya names the SDXL UNet in the original layout).
        var sd1 = dir.File("sd1.safetensors");
        SafetensorsWriter.Save(sd1, [
            new("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight", randn(4, 768)),
            new("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight", randn(320, 4)),
            new("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.alpha", tensor(2f))]);
        var sdxl = dir.File("sdxl.safetensors");
        SafetensorsWriter.Save(sdxl, [
            new("lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_down.weight", randn(4, 2048)),
            new("lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.lora_up.weight", randn(640, 4)),
            new("lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", randn(4, 1280)),
            new("lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight", randn(1280, 4))]);

        var one = LoraConvert.Run(sd1, dir.File("sd1-peft.safetensors"), to: null, architecture: null);
        Assert.Equal((SdArchitecture.SD1, 1), (one.Architecture, one.Modules));
        Assert.True(TensorSources.Open(dir.File("sd1-peft.safetensors")).Contains("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight"));

        var xl = LoraConvert.Run(sdxl, dir.File("sdxl-peft.safetensors"), to: null, architecture: null);
        Assert.Equal((SdArchitecture.SdxlBase, 2), (xl.Architecture, xl.Modules));
        using (var file = TensorSources.Open(dir.File("sdxl-peft.safetensors")))
        {
            Assert.True(file.Contains("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.lora_B.weight"));
            Assert.True(file.Contains("text_encoder_2.text_model.encoder.layers.0.self_attn.q_proj.lora_A.weight"));
        }

        LoraConvert.Run(dir.File("sdxl-peft.safetensors"), dir.File("sdxl-back.safetensors"), to: null, architecture: SdArchitecture.SdxlBase);
        using (var file = TensorSources.Open(dir.File("sdxl-back.safetensors")))
        {
            Assert.True(file.Contains("lora_unet_input_blocks_4_1_transformer_blocks_0_attn2_to_k.alpha"));
            Assert.Equal("sdxl_base_v1-0", file.Metadata["ss_base_model_version"]);
        }

        var wrong = Assert.Throws<ArgumentException>(() => LoraConvert.Run(sdxl, dir.File("x.safetensors"), to: null, architecture: SdArchitecture.SD2));
        Assert.Contains("--architecture", wrong.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Family_that_nothing_tells_asks_for_the_architecture()
    {
        using var dir = TestPaths.NewTempDir();
        SafetensorsWriter.Save(dir.File("odd.safetensors"), [new("something.weight", zeros(2, 2))]);
        using var file = TensorSources.Open(dir.File("odd.safetensors"));
        var error = Assert.Throws<ArgumentException>(() => LoraFileTargets.Detect(file));
        Assert.Contains("--architecture sd1, sd2 or sdxl", error.Message, StringComparison.Ordinal);
    }
}
