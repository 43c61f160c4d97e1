using SdTune.Checkpoints;
using SdTune.Checkpoints.Pickle;
using SdTune.Checkpoints.Safetensors;
using SdTune.Checkpoints.SingleFile;
using SdTune.IO;
using SdTune.Models;
using SdTune.Models.Unet;
using SdTune.Text;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Formats;

/// <summary>diffusers folder → single file (.safetensors and .ckpt) → diffusers folder: every tensor bit-identical.</summary>
public class ModelRoundTripTests
{
    [Fact]
    public void Sd1_survives_diffusers_safetensors_ckpt_and_diffusers_again()
    {
        using var dir = TestPaths.NewTempDir();
        using var original = TinyModels.Sd1();
        RoundTrip(original, dir);
    }

    [Fact]
    public void Sdxl_survives_diffusers_safetensors_ckpt_and_diffusers_again()
    {
        using var dir = TestPaths.NewTempDir();
        using var original = TinyModels.Sdxl();
        RoundTrip(original, dir);
    }

    private static void RoundTrip(StableDiffusionModel original, TempDir dir)
    {
        var folder = dir.File("pipeline");
        DiffusersPipelineFormat.Save(original, folder);
        using var fromFolder = StableDiffusionModels.Load(folder);
        TinyModels.AssertSameWeights(original, fromFolder);
        Assert.Equal(original.Unet.Config.ToJson(), fromFolder.Unet.Config.ToJson());
        Assert.Equal(original.Vae.Config.ToJson(), fromFolder.Vae.Config.ToJson());
        Assert.Equal(original.TextEncoder.Config.ToJson(), fromFolder.TextEncoder.Config.ToJson());

        var safetensors = dir.File("model.safetensors");
        SingleFileFormat.Save(fromFolder, safetensors);
        using var fromSafetensors = StableDiffusionModels.Load(safetensors);
        TinyModels.AssertSameWeights(original, fromSafetensors);

        var ckpt = dir.File("model.ckpt");
        SingleFileFormat.Save(fromSafetensors, ckpt);
        using (var pickle = PickleTensorSource.Open(ckpt))
        {
            Assert.Contains(pickle.Entries, e => e.Name == OriginalPrefixes.Unet + "input_blocks.0.0.weight");
        }

        using var fromCkpt = StableDiffusionModels.Load(ckpt);
        TinyModels.AssertSameWeights(original, fromCkpt);

        var folder2 = dir.File("pipeline2");
        DiffusersPipelineFormat.Save(fromCkpt, folder2);
        using var again = StableDiffusionModels.Load(folder2);
        TinyModels.AssertSameWeights(original, again);

        // What a single file derives matches what was saved, except the values files of this family cannot record.
        Assert.Equal(original.Unet.Config with { SampleSize = null }, again.Unet.Config with { SampleSize = null }, ConfigComparer.Instance);
        Assert.Equal(original.Vae.Config with { SampleSize = 0 }, again.Vae.Config with { SampleSize = 0 }, ConfigComparer.Instance);
        Assert.Equal(original.Tokenizer.Padding, again.Tokenizer.Padding);
        Assert.Equal(original.Tokenizer2?.Padding, again.Tokenizer2?.Padding);
        Assert.Equal(original.PredictionType, again.PredictionType);
    }

    [Fact]
    public void Unet_output_is_identical_after_a_round_trip_through_a_single_file()
    {
        using var dir = TestPaths.NewTempDir();
        using var original = TinyModels.Sd1();
        var path = dir.File("model.safetensors");
        SingleFileFormat.Save(original, path);
        using var loaded = SingleFileFormat.Load(path);

        using var scope = NewDisposeScope();
        var generator = new TorchSharp.torch.Generator(7);
        var sample = randn([1, 4, 8, 8], generator: generator);
        var context = randn([1, 5, 768], generator: generator);
        var t = tensor(500L);
        original.Unet.eval();
        loaded.Unet.eval();
        using var noGrad = no_grad();
        var expected = original.Unet.forward(sample, t, context);
        var actual = loaded.Unet.forward(sample, t, context);
        Assert.True(expected.equal(actual).all().item<bool>());
        Assert.False(expected.isnan().any().item<bool>());
    }

    [Fact]
    public void Fp16_variant_is_written_and_needs_the_variant_option_to_load()
    {
        using var dir = TestPaths.NewTempDir();
        using var original = TinyModels.Sd1();
        var folder = dir.File("pipeline");
        DiffusersPipelineFormat.Save(original, folder, new ModelSaveOptions { DType = ScalarType.Float16, Variant = "fp16" });
        Assert.True(File.Exists(Path.Combine(folder, "unet", "diffusion_pytorch_model.fp16.safetensors")));
        Assert.True(File.Exists(Path.Combine(folder, "text_encoder", "model.fp16.safetensors")));
        using (var file = SafetensorsFile.Open(Path.Combine(folder, "vae", "diffusion_pytorch_model.fp16.safetensors")))
        {
            Assert.All(file.Tensors, t => Assert.Equal(SafetensorsDType.F16, t.DType));
        }

        var error = Assert.Throws<CheckpointFormatException>(() => DiffusersPipelineFormat.Load(folder));
        Assert.Contains("'fp16'", error.Message, StringComparison.Ordinal);
        Assert.Contains("unet/", error.Message, StringComparison.Ordinal);

        using var loaded = DiffusersPipelineFormat.Load(folder, new ModelLoadOptions { Variant = "fp16", DType = ScalarType.Float16 });
        TinyModels.AssertSameWeights(original, loaded, ScalarType.Float16);
    }

    [Fact]
    public void Bf16_load_option_converts_while_reading()
    {
        using var dir = TestPaths.NewTempDir();
        using var original = TinyModels.Sd1();
        var folder = dir.File("pipeline");
        DiffusersPipelineFormat.Save(original, folder);
        using var loaded = DiffusersPipelineFormat.Load(folder, new ModelLoadOptions { DType = ScalarType.BFloat16 });
        TinyModels.AssertSameWeights(original, loaded, ScalarType.BFloat16);

        var single = dir.File("model.safetensors");
        SingleFileFormat.Save(original, single);
        using var fromSingle = SingleFileFormat.Load(single, new ModelLoadOptions { DType = ScalarType.BFloat16 });
        TinyModels.AssertSameWeights(original, fromSingle, ScalarType.BFloat16);
    }

    [Fact]
    public void Fp16_single_file_halves_the_weights_and_loads_back_as_float32()
    {
        using var dir = TestPaths.NewTempDir();
        using var original = TinyModels.Sd1();
        var path = dir.File("model.safetensors");
        SingleFileFormat.Save(original, path, new ModelSaveOptions { DType = ScalarType.Float16 });
        using (var file = SafetensorsFile.Open(path))
        {
            Assert.Equal(SafetensorsDType.F16, file.Info(OriginalPrefixes.Unet + "out.2.weight").DType);
            Assert.Equal("epsilon", file.Metadata["modelspec.prediction_type"]);
        }

        using var loaded = SingleFileFormat.Load(path);
        Assert.Equal(ScalarType.Float32, loaded.Unet.parameters().First().dtype);
        using var scope = NewDisposeScope();
        var expected = original.Vae.state_dict();
        foreach (var (name, value) in loaded.Vae.state_dict())
        {
            Assert.True(expected[name].to(ScalarType.Float16).to(ScalarType.Float32).equal(value).all().item<bool>(), name);
        }
    }

    [Fact]
    public void Sharded_and_bin_components_load()
    {
        using var dir = TestPaths.NewTempDir();
        using var original = TinyModels.Sd1();
        var folder = dir.File("pipeline");
        DiffusersPipelineFormat.Save(original, folder);

        // UNet: two safetensors shards and an index, as diffusers writes large models.
        var unet = Path.Combine(folder, "unet");
        using (var scope = NewDisposeScope())
        {
            var tensors = original.Unet.state_dict().ToList();
            var half = tensors.Count / 2;
            var shards = new[] { tensors.Take(half).ToList(), tensors.Skip(half).ToList() };
            var map = new System.Text.Json.Nodes.JsonObject();
            for (var i = 0; i < shards.Length; i++)
            {
                var name = $"diffusion_pytorch_model-0000{i + 1}-of-00002.safetensors";
                SafetensorsWriter.Save(Path.Combine(unet, name), shards[i]);
                foreach (var (key, _) in shards[i])
                {
                    map[key] = name;
                }
            }

            File.WriteAllText(Path.Combine(unet, "diffusion_pytorch_model.safetensors.index.json"),
                new System.Text.Json.Nodes.JsonObject { ["metadata"] = new System.Text.Json.Nodes.JsonObject(), ["weight_map"] = map }.ToJsonString());
            File.Delete(Path.Combine(unet, "diffusion_pytorch_model.safetensors"));

            // Text encoder and VAE: legacy torch.save files; the text encoder with the old position_ids buffer.
            var text = Path.Combine(folder, "text_encoder");
            var textState = original.TextEncoder.state_dict().ToList();
            textState.Add(new("text_model.embeddings.position_ids", arange(77L).unsqueeze(0)));
            TorchCheckpointWriter.Save(Path.Combine(text, "pytorch_model.bin"), textState);
            File.Delete(Path.Combine(text, "model.safetensors"));
            var vae = Path.Combine(folder, "vae");
            TorchCheckpointWriter.Save(Path.Combine(vae, "diffusion_pytorch_model.bin"), original.Vae.state_dict());
            File.Delete(Path.Combine(vae, "diffusion_pytorch_model.safetensors"));
        }

        using var loaded = DiffusersPipelineFormat.Load(folder);
        TinyModels.AssertSameWeights(original, loaded);
    }

    [Fact]
    public void Missing_tokenizer_folders_fall_back_to_the_built_in_vocabulary_with_the_family_padding()
    {
        using var dir = TestPaths.NewTempDir();
        using var original = TinyModels.Sdxl();
        var folder = dir.File("pipeline");
        DiffusersPipelineFormat.Save(original, folder);
        using (var withTokenizers = DiffusersPipelineFormat.Load(folder))
        {
            Assert.Empty(withTokenizers.Notes);
            Assert.Equal(ClipPadding.EndToken, withTokenizers.Tokenizer.Padding);
            Assert.Equal(ClipPadding.Zero, withTokenizers.Tokenizer2!.Padding);
        }

        Directory.Delete(Path.Combine(folder, "tokenizer"), recursive: true);
        Directory.Delete(Path.Combine(folder, "tokenizer_2"), recursive: true);
        using var loaded = DiffusersPipelineFormat.Load(folder);
        Assert.Equal(ClipPadding.EndToken, loaded.Tokenizer.Padding);
        Assert.Equal(ClipPadding.Zero, loaded.Tokenizer2!.Padding);
        Assert.Contains(loaded.Notes, n => n.Contains("tokenizer_2/", StringComparison.Ordinal));
        Assert.Equal(original.Tokenizer.Encode("a photo of a cat"), loaded.Tokenizer.Encode("a photo of a cat"));
    }

    [Fact]
    public void Prediction_type_travels_through_scheduler_config_and_single_file_metadata()
    {
        using var dir = TestPaths.NewTempDir();
        using var original = TinyModels.Sd1();
        var folder = dir.File("pipeline");
        DiffusersPipelineFormat.Save(original, folder);
        using var v = DiffusersPipelineFormat.Load(folder, new ModelLoadOptions { PredictionType = PredictionType.VPrediction });
        Assert.Equal("v_prediction", v.SchedulerConfig["prediction_type"]!.GetValue<string>());

        foreach (var name in new[] { "v.safetensors", "v.ckpt" })
        {
            SingleFileFormat.Save(v, dir.File(name));
            using var loaded = SingleFileFormat.Load(dir.File(name));
            Assert.Equal(PredictionType.VPrediction, loaded.PredictionType);
            Assert.Equal("PNDMScheduler", loaded.SchedulerConfig["_class_name"]!.GetValue<string>());
        }

        Assert.Equal(UNet2DConditionConfig.CrossAttnMidBlock, v.Unet.Config.MidBlockType);
    }
}
