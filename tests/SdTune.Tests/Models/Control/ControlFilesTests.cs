using SdTune.Checkpoints;
using SdTune.Checkpoints.Control;
using SdTune.Checkpoints.Inspection;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using SdTune.Models.Control;
using SdTune.Models.Unet;
using static TorchSharp.torch;

namespace SdTune.Tests.Models.Control;

/// <summary>ControlNet and T2I-Adapter files: diffusers folders, original single files, inspection.</summary>
public class ControlFilesTests
{
    /// <summary>SDXL-like, 64-wide heads so the single-file config can be derived from shapes alone.</summary>
    private const string TinySdxl = """
        {"down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D"], "up_block_types": ["CrossAttnUpBlock2D", "UpBlock2D"],
         "block_out_channels": [64, 128], "layers_per_block": 1, "attention_head_dim": [1, 2], "transformer_layers_per_block": [1, 2],
         "cross_attention_dim": 32, "norm_num_groups": 32, "use_linear_projection": true, "addition_embed_type": "text_time",
         "addition_time_embed_dim": 4, "projection_class_embeddings_input_dim": 1304}
        """;

    private static ControlNetModel RandomControlNet(string unetJson, int seed)
    {
        manual_seed(seed);
        using var unet = new UNet2DConditionModel(UNet2DConditionConfig.Parse(unetJson, "tiny"));
        var controlnet = ControlNetModel.FromUnet(unet, ControlNetBehaviourTests.TinyEmbedding);
        ControlNetBehaviourTests.Randomise(controlnet, seed);
        return controlnet;
    }

    private static void AssertSameWeights(nn.Module expected, nn.Module actual)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        Assert.Equal(a.Keys, b.Keys);
        Assert.All(a, p => Assert.True(p.Value.dtype == b[p.Key].dtype && p.Value.eq(b[p.Key]).all().item<bool>(), p.Key));
    }

    [Fact]
    public void Diffusers_folders_round_trip_bit_identically()
    {
        using var dir = TestPaths.NewTempDir();
        using var controlnet = RandomControlNet(TinySdxl, 1);
        ControlNetFiles.SaveFolder(controlnet, dir.File("controlnet"));
        using var loaded = ControlNetFiles.Load(dir.File("controlnet"));
        AssertSameWeights(controlnet, loaded);
        Assert.Null(Checkpoints.Formats.ConfigComparer.Difference(controlnet.Config.Encoder, loaded.Config.Encoder));
        Assert.Contains("\"_class_name\": \"ControlNetModel\"", File.ReadAllText(dir.File("controlnet/config.json")), StringComparison.Ordinal);

        manual_seed(4);
        using var adapter = new T2IAdapter(new T2IAdapterConfig { Channels = [16, 32], AdapterType = T2IAdapterConfig.LightAdapter, InChannels = 1 });
        T2IAdapterFiles.SaveFolder(adapter, dir.File("adapter"));
        using var loadedAdapter = T2IAdapterFiles.LoadFolder(dir.File("adapter"));
        AssertSameWeights(adapter, loadedAdapter);
        Assert.Null(Checkpoints.Formats.ConfigComparer.Difference(adapter.Config, loadedAdapter.Config));
    }

    [Theory]
    [InlineData("controlnet.safetensors", false)]
    [InlineData("controlnet.safetensors", true)]
    [InlineData("controlnet.pth", false)]
    [InlineData("controlnet.pth", true)]
    public void Original_single_files_round_trip_bit_identically(string fileName, bool prefix)
    {
        using var dir = TestPaths.NewTempDir();
        using var controlnet = RandomControlNet(TinySdxl, 2);
        var path = dir.File(fileName);
        ControlNetSingleFile.Save(controlnet, path, controlModelPrefix: prefix);

        using (var source = TensorSources.Open(path))
        {
            var names = source.Entries.Select(e => e.Name).ToList();
            var p = prefix ? "control_model." : "";
            Assert.All(names, n => Assert.StartsWith(p, n, StringComparison.Ordinal));
            Assert.Contains(p + "input_hint_block.2.weight", names);
            Assert.Contains(p + "zero_convs.3.0.bias", names);
            Assert.DoesNotContain(p + "zero_convs.4.0.bias", names);
            Assert.Contains(p + "middle_block_out.0.weight", names);
            Assert.Contains(p + "label_emb.0.0.weight", names);
            Assert.Contains(p + "input_blocks.3.1.transformer_blocks.1.attn2.to_k.weight", names);
            Assert.Equal(ModelFileKind.ControlNet, StateDictClassifier.Classify([.. source.Entries]).Kind);
        }

        // The .pth has no metadata, so its config is derived from the shapes.
        using var loaded = ControlNetFiles.Load(path);
        AssertSameWeights(controlnet, loaded);
        Assert.Null(Checkpoints.Formats.ConfigComparer.Difference(controlnet.Config.Encoder, loaded.Config.Encoder));
        Assert.Equal(controlnet.Config.ConditioningEmbeddingOutChannels, loaded.Config.ConditioningEmbeddingOutChannels);
    }

    [Fact]
    public void A_safetensors_file_in_diffusers_names_loads_too()
    {
        using var dir = TestPaths.NewTempDir();
        using var controlnet = RandomControlNet(TinySdxl, 3);
        var path = dir.File("diffusers-names.safetensors");
        using (var scope = NewDisposeScope())
        {
            SafetensorsWriter.Save(path, controlnet.state_dict().Select(p => new KeyValuePair<string, Tensor>(p.Key, p.Value.detach())));
        }

        using var loaded = ControlNetFiles.Load(path);
        AssertSameWeights(controlnet, loaded);
    }

    [Fact]
    public void Broken_files_give_errors_naming_the_file_and_tensors()
    {
        using var dir = TestPaths.NewTempDir();
        using var controlnet = RandomControlNet(TinySdxl, 5);
        var path = dir.File("cn.safetensors");
        ControlNetSingleFile.Save(controlnet, path);
        var tensors = new Dictionary<string, Tensor>();
        using (var file = SafetensorsFile.Open(path))
        {
            foreach (var entry in file.Tensors)
            {
                tensors[entry.Name] = file.Read(entry.Name);
            }
        }

        var broken = dir.File("broken.pth");
        Pickle_Save(broken, tensors.Where(p => p.Key != "zero_convs.2.0.weight").Append(new("extra.weight", zeros(2))));
        var error = Assert.Throws<CheckpointFormatException>(() => ControlNetFiles.Load(broken));
        Assert.Contains(broken, error.Message, StringComparison.Ordinal);
        Assert.Contains("extra.weight", error.Message, StringComparison.Ordinal);
        Assert.Contains("controlnet_down_blocks.2.weight", error.Message, StringComparison.Ordinal);

        var notControlNet = dir.File("unet.pth");
        Pickle_Save(notControlNet, [new("input_blocks.0.0.weight", zeros(4, 4, 3, 3))]);
        Assert.Contains("not a ControlNet", Assert.Throws<CheckpointFormatException>(() => ControlNetFiles.Load(notControlNet)).Message, StringComparison.Ordinal);

        Directory.CreateDirectory(dir.File("bad-config"));
        File.WriteAllText(dir.File("bad-config/config.json"), """{"_class_name": "T2IAdapter", "adapter_type": "huge_adapter"}""");
        File.WriteAllBytes(dir.File("bad-config/diffusion_pytorch_model.safetensors"), []);
        var config = Assert.Throws<CheckpointFormatException>(() => T2IAdapterFiles.LoadFolder(dir.File("bad-config")));
        Assert.Contains("config.json", config.Message, StringComparison.Ordinal);
        Assert.Contains("adapter_type", config.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_recognises_controlnet_and_adapter_folders_and_files()
    {
        using var dir = TestPaths.NewTempDir();
        using var controlnet = RandomControlNet(TinySdxl, 6);
        ControlNetFiles.SaveFolder(controlnet, dir.File("cn"));
        ControlNetSingleFile.Save(controlnet, dir.File("cn.safetensors"));
        using var adapter = new T2IAdapter(new T2IAdapterConfig { Channels = [16, 32, 64, 64], AdapterType = T2IAdapterConfig.FullAdapterXl, DownscaleFactor = 16 });
        T2IAdapterFiles.SaveFolder(adapter, dir.File("xl-adapter"));
        using var light = new T2IAdapter(new T2IAdapterConfig { Channels = [16, 32], AdapterType = T2IAdapterConfig.LightAdapter });
        T2IAdapterFiles.SaveFolder(light, dir.File("light-adapter"));

        var folder = ModelInspector.Inspect(dir.File("cn"));
        var file = ModelInspector.Inspect(dir.File("cn.safetensors"));
        var xl = ModelInspector.Inspect(dir.File("xl-adapter"));
        var lightReport = ModelInspector.Inspect(dir.File("light-adapter/diffusion_pytorch_model.safetensors"));

        Assert.Equal((ModelFileKind.ControlNet, "diffusers layout"), (folder.Kind, folder.Flavour));
        Assert.Equal((ModelFileKind.ControlNet, "original layout"), (file.Kind, file.Flavour));
        Assert.Equal((ModelFileKind.T2IAdapter, ModelArchitecture.SDXL, "diffusers layout, full_adapter_xl"), (xl.Kind, xl.Architecture, xl.Flavour));
        Assert.Equal((ModelFileKind.T2IAdapter, "diffusers layout, light_adapter"), (lightReport.Kind, lightReport.Flavour));
    }

    private static void Pickle_Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors) =>
        SdTune.Checkpoints.Pickle.TorchCheckpointWriter.Save(path, tensors);
}
