using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Workshop.Lora;
using static TorchSharp.torch;

namespace SdTune.Tests.Workshop;

public class LoraBlockWeightsToolTests
{
    [Theory]
    [InlineData(false, "0.5,0.1,0.2,0.4,0.5,0.7,0.8,0.9,1.3,1.4,1.5,1.6,1.7,1.8,1.9,2.0,-1")]
    [InlineData(false, "MIDD")]
    [InlineData(true, "0.3,1.1,1.2,0.7,0.8,0.9,1.4,1.5,1.6,-0.5,2,2.5")]
    [InlineData(true, "OUTALL")]
    public void File_with_baked_block_weights_applied_at_1_equals_the_original_with_block_weights(bool sdxl, string weights)
    {
        using var dir = TestPaths.NewTempDir();
        using var reference = WorkshopLoras.Model(sdxl);
        var vector = LoraBlockWeightPresets.Parse(weights, reference.Architecture, "--weights");
        WorkshopLoras.WriteKohya(dir.File("k.safetensors"), WorkshopLoras.Targets(reference));
        var result = LoraBlockWeightsTool.Run(dir.File("k.safetensors"), dir.File("lbw.safetensors"), vector, WorkshopLoras.Targets(reference));
        Assert.Empty(result.Unmatched);

        // What the applier does at inference with the block weights (module multipliers) against the baked file at 1.
        var targets = WorkshopLoras.Targets(reference);
        using var noGrad = no_grad();
        using (var original = LoraApplier.Apply(targets, dir.File("k.safetensors"), blockWeights: vector))
        using (var baked = LoraApplier.Apply(targets, dir.File("lbw.safetensors")))
        {
            var bakedDeltas = baked.File.Network.Entries.ToDictionary(e => e.Name, e => e.Module.DeltaWeight() * e.Module.Multiplier);
            Assert.Equal(original.File.Network.Entries.Count, bakedDeltas.Count);
            Assert.Contains(original.File.Network.Entries, e => e.Module.Multiplier != 1);
            foreach (var entry in original.File.Network.Entries)
            {
                using var expected = entry.Module.DeltaWeight() * entry.Module.Multiplier;
                // One rounding of each scaled up weight: the difference is at float32 resolution of the delta's scale.
                var error = (expected - bakedDeltas[entry.Name]).abs().max().item<float>();
                Assert.True(error <= 1e-5 * Math.Max(expected.abs().max().item<float>(), 1e-6), $"{entry.Name}: {error}");
            }
        }

        // Same layout and names; only strength factors change; the kohya hashes describe the new tensors.
        var before = WorkshopLoras.Tensors(dir.File("k.safetensors"));
        var after = WorkshopLoras.Tensors(dir.File("lbw.safetensors"));
        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), after.Keys.Order(StringComparer.Ordinal));
        Assert.All(before.Where(kv => !kv.Key.EndsWith(".lora_up.weight", StringComparison.Ordinal)), kv => Assert.True(WorkshopLoras.BitEqual(kv.Value, after[kv.Key]), kv.Key));
        using var written = TensorSources.Open(dir.File("lbw.safetensors"));
        Assert.Equal(SdTune.Imaging.ModelHashes.SafetensorsDataHash(dir.File("lbw.safetensors")), written.Metadata["sshs_model_hash"]);
        Assert.Equal(vector.Count, written.Metadata[LoraBlockWeightsTool.MetadataKey].Split(',').Length);
    }

    [Fact]
    public void Peft_files_keep_their_layout_and_scale_the_same()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = WorkshopLoras.Model(sdxl: false);
        var targets = WorkshopLoras.Targets(model);
        WorkshopLoras.WriteKohya(dir.File("k.safetensors"), targets);
        LoraConvert.Run(dir.File("k.safetensors"), dir.File("p.safetensors"), targets, LoraLayout.Peft);
        var vector = LoraBlockWeightPresets.Get("OUTD", SdArchitecture.SD1);
        LoraBlockWeightsTool.Run(dir.File("k.safetensors"), dir.File("k-lbw.safetensors"), vector, targets);
        LoraBlockWeightsTool.Run(dir.File("p.safetensors"), dir.File("p-lbw.safetensors"), vector, targets);

        using (var file = TensorSources.Open(dir.File("p-lbw.safetensors")))
        {
            Assert.All(file.Entries, e => Assert.EndsWith("weight", e.Name, StringComparison.Ordinal));
            Assert.True(file.Metadata.ContainsKey(PeftAdapterMetadata.Key));
        }

        var kohya = WorkshopLoras.Deltas(dir.File("k-lbw.safetensors"), targets);
        var peft = WorkshopLoras.Deltas(dir.File("p-lbw.safetensors"), targets);
        Assert.All(kohya, kv => Assert.True(WorkshopLoras.BitEqual(kv.Value, peft[kv.Key]), kv.Key));
    }

    [Fact]
    public void Wrong_lengths_and_unknown_presets_are_clear_errors()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = WorkshopLoras.Model(sdxl: false);
        var targets = WorkshopLoras.Targets(model);
        WorkshopLoras.WriteKohya(dir.File("k.safetensors"), targets);

        var length = Assert.Throws<ArgumentException>(() => LoraBlockWeightsTool.Run(dir.File("k.safetensors"), dir.File("o.safetensors"), [1, 0, 1], targets));
        Assert.Contains("--weights", length.Message, StringComparison.Ordinal);
        Assert.Contains("12, 17, 20 or 26 values", length.Message, StringComparison.Ordinal);
        Assert.Contains("got 3", length.Message, StringComparison.Ordinal);

        var preset = Assert.Throws<ArgumentException>(() => LoraBlockWeightPresets.Parse("MIDDLE", SdArchitecture.SD1, "--weights"));
        Assert.Contains("'MIDDLE'", preset.Message, StringComparison.Ordinal);
        Assert.Contains("NONE, ALL, INS, IND, INALL, MIDD, OUTD, OUTS, OUTALL, ALL0.5", preset.Message, StringComparison.Ordinal);

        var number = Assert.Throws<ArgumentException>(() => LoraBlockWeightPresets.Parse("1,x,1", SdArchitecture.SD1, "lbw"));
        Assert.StartsWith("lbw: block weight 2 ('x')", number.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("o.safetensors")));
    }
}
