using System.Text.Json;
using SdTune.Checkpoints.Inspection;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Inspection;

public class ModelInspectorTests
{
    /// <summary>Writes a safetensors file of zero tensors with the given names and shapes.</summary>
    private static string WriteZeros(TempDir dir, string name, IEnumerable<(string Key, long[] Shape)> entries, Dictionary<string, string>? metadata = null, ScalarType dtype = ScalarType.Float16)
    {
        var path = dir.File(name);
        using var scope = NewDisposeScope();
        SafetensorsWriter.Save(path, entries.Select(e => new KeyValuePair<string, Tensor>(e.Key, torch.zeros(e.Shape, dtype))).ToList(), metadata);
        return path;
    }

    private static IEnumerable<(string, long[])> KohyaNames(string fixture)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture(fixture)));
        return document.RootElement.GetProperty("modules").EnumerateArray()
            .SelectMany(m => m.GetProperty("keys").EnumerateObject())
            .Select(k => (k.Name, k.Value.EnumerateArray().Select(v => v.GetInt64()).ToArray()))
            .ToList();
    }

    [Fact]
    public void Kohya_sd15_lora_is_recognised_with_rank_and_architecture()
    {
        using var dir = TestPaths.NewTempDir();
        var path = WriteZeros(dir, "lora.safetensors", KohyaNames("lora_names_sd15_default.json"), new() { ["ss_network_module"] = "networks.lora" });
        var report = ModelInspector.Inspect(path);
        Assert.Equal(ModelFileKind.Lora, report.Kind);
        Assert.Equal(ModelArchitecture.SD1, report.Architecture);
        Assert.Equal("LoRA on UNet + text encoder, rank 4", report.Flavour);
        Assert.Equal((192 + 72) * 3, report.TensorCount);
        Assert.Equal("networks.lora", report.Metadata["ss_network_module"]);
        Assert.Equal(new Dictionary<string, int> { ["F16"] = (192 + 72) * 3 }, report.DTypes);
    }

    [Fact]
    public void Kohya_locon_is_told_apart_from_plain_lora()
    {
        using var dir = TestPaths.NewTempDir();
        var report = ModelInspector.Inspect(WriteZeros(dir, "locon.safetensors", KohyaNames("lora_names_sd15_conv.json")));
        Assert.Equal(ModelFileKind.Lora, report.Kind);
        Assert.StartsWith("LoCon", report.Flavour, StringComparison.Ordinal);
    }

    [Fact]
    public void Sdxl_lora_and_lycoris_flavours_are_recognised()
    {
        using var dir = TestPaths.NewTempDir();
        var sdxl = ModelInspector.Inspect(WriteZeros(dir, "xl.safetensors",
        [
            ("lora_unet_input_blocks_4_1_proj_in.lora_down.weight", [8, 640]),
            ("lora_unet_input_blocks_4_1_proj_in.lora_up.weight", [640, 8]),
            ("lora_te2_text_model_encoder_layers_31_mlp_fc1.hada_w1_a", [5120, 8]),
        ]));
        Assert.Equal(ModelArchitecture.SDXL, sdxl.Architecture);
        Assert.Contains("LoRA + LyCORIS LoHa", sdxl.Flavour, StringComparison.Ordinal);
        var lokr = ModelInspector.Inspect(WriteZeros(dir, "lokr.safetensors",
        [
            ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lokr_w1", [8, 8]),
            ("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.alpha", []),
        ], new() { ["ss_base_model_version"] = "sd_v2" }));
        Assert.Equal("LyCORIS LoKr on UNet", lokr.Flavour);
        Assert.Equal(ModelArchitecture.SD2, lokr.Architecture);
    }

    [Fact]
    public void Peft_lora_embeddings_and_components_are_recognised()
    {
        using var dir = TestPaths.NewTempDir();
        var peft = ModelInspector.Inspect(WriteZeros(dir, "peft.safetensors",
        [
            ("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight", [4, 768]),
            ("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_B.weight", [320, 4]),
        ]));
        Assert.Equal((ModelFileKind.Lora, ModelArchitecture.SD1), (peft.Kind, peft.Architecture));

        var ti = ModelInspector.Inspect(WriteZeros(dir, "ti.safetensors", [("emb_params", [3, 1024])]));
        Assert.Equal((ModelFileKind.Embedding, ModelArchitecture.SD2), (ti.Kind, ti.Architecture));
        Assert.Contains("3 vectors", ti.Flavour, StringComparison.Ordinal);

        var xl = ModelInspector.Inspect(WriteZeros(dir, "xl_ti.safetensors", [("clip_l", [2, 768]), ("clip_g", [2, 1280])]));
        Assert.Equal((ModelFileKind.Embedding, ModelArchitecture.SDXL), (xl.Kind, xl.Architecture));

        var vae = ModelInspector.Inspect(TestPaths.Fixture("vae_tiny.safetensors"));
        Assert.Equal(ModelFileKind.Vae, vae.Kind);
        Assert.Equal("diffusers layout", vae.Flavour);
    }

    [Fact]
    public void Original_single_file_checkpoints_are_recognised_from_their_keys()
    {
        using var dir = TestPaths.NewTempDir();
        var sd1 = ModelInspector.Inspect(WriteZeros(dir, "sd1.safetensors",
        [
            ("model.diffusion_model.input_blocks.0.0.weight", [320, 4, 3, 3]),
            ("first_stage_model.encoder.conv_in.weight", [128, 3, 3, 3]),
            ("cond_stage_model.transformer.text_model.embeddings.token_embedding.weight", [49408, 768]),
        ]));
        Assert.Equal((ModelFileKind.StableDiffusionCheckpoint, ModelArchitecture.SD1), (sd1.Kind, sd1.Architecture));
        var inpaint = ModelInspector.Inspect(WriteZeros(dir, "xl_inpaint.safetensors",
        [
            ("model.diffusion_model.input_blocks.0.0.weight", [320, 9, 3, 3]),
            ("conditioner.embedders.1.model.token_embedding.weight", [49408, 1280]),
        ]));
        Assert.Equal(ModelArchitecture.SDXL, inpaint.Architecture);
        Assert.StartsWith("inpainting", inpaint.Flavour, StringComparison.Ordinal);
    }

    [Fact]
    public void Diffusers_pipeline_folder_lists_its_components()
    {
        using var dir = TestPaths.NewTempDir();
        var unetDir = Directory.CreateDirectory(Path.Combine(dir.Path, "unet")).FullName;
        var vaeDir = Directory.CreateDirectory(Path.Combine(dir.Path, "vae")).FullName;
        File.Copy(TestPaths.Fixture("unet_sd1_tiny.safetensors"), Path.Combine(unetDir, "diffusion_pytorch_model.safetensors"));
        File.Copy(TestPaths.Fixture("vae_tiny.safetensors"), Path.Combine(vaeDir, "diffusion_pytorch_model.safetensors"));
        File.WriteAllText(Path.Combine(dir.Path, "model_index.json"), """{"_class_name":"StableDiffusionPipeline","unet":["diffusers","UNet2DConditionModel"],"vae":["diffusers","AutoencoderKL"],"text_encoder":["transformers","CLIPTextModel"]}""");
        var report = ModelInspector.Inspect(dir.Path);
        Assert.Equal(ModelFileKind.DiffusersPipeline, report.Kind);
        Assert.Equal("StableDiffusionPipeline", report.Flavour);
        Assert.Equal([ModelFileKind.Unet, ModelFileKind.Vae], report.Components.Select(c => c.Kind));
        Assert.Contains("component 'text_encoder' has no weight file", report.Notes);
    }

    [Fact]
    public void Bad_paths_and_unknown_containers_give_clear_errors()
    {
        using var dir = TestPaths.NewTempDir();
        Assert.Throws<FileNotFoundException>(() => ModelInspector.Inspect(dir.File("missing.safetensors")));
        var text = dir.File("notes.txt");
        File.WriteAllText(text, "hello, I am not a model");
        var error = Assert.Throws<CheckpointFormatException>(() => ModelInspector.Inspect(text));
        Assert.Contains("notes.txt", error.Message, StringComparison.Ordinal);
        Assert.Throws<CheckpointFormatException>(() => ModelInspector.Inspect(dir.Path));
    }
}
