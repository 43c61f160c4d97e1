using SdTune.Checkpoints.Inspection;
using SdTune.Checkpoints.Pickle;
using TorchSharp;

namespace SdTune.Tests.Checkpoints.Inspection;

public class PickleInspectionTests
{
    private static string Golden(string name) => Path.Combine(TestPaths.RepositoryRoot, "tests", "fixtures", "pickle", name);

    [Fact]
    public void A1111_embedding_pt_is_recognised_with_its_fields()
    {
        var report = ModelInspector.Inspect(Golden("a1111_embedding.pt"));
        Assert.Equal(ModelFileKind.Embedding, report.Kind);
        Assert.Equal(ModelArchitecture.SD1, report.Architecture);
        Assert.Equal("A1111 textual inversion (string_to_param), 2 vectors of width 768", report.Flavour);
        Assert.Equal("my-style", report.Metadata["name"]);
        Assert.Equal("1500", report.Metadata["step"]);
        Assert.Equal(1536, report.ParameterCount);
    }

    [Fact]
    public void A1111_hypernetwork_is_recognised_with_its_structure()
    {
        var report = ModelInspector.Inspect(Golden("a1111_hypernetwork.pt"));
        Assert.Equal(ModelFileKind.Hypernetwork, report.Kind);
        Assert.Equal(ModelArchitecture.SD1, report.Architecture);
        Assert.Contains("context widths 768, 320", report.Flavour, StringComparison.Ordinal);
        Assert.Contains("[1, 0.01, 1]", report.Flavour, StringComparison.Ordinal);
        // Two widths x (k, v) x (two weights + two biases).
        Assert.Equal(16, report.TensorCount);
        Assert.Equal("False", report.Metadata["is_layer_norm"]);
    }

    [Fact]
    public void Pickled_state_dict_is_classified_by_its_names()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("lora.ckpt");
        using var down = torch.zeros(4, 768);
        using var up = torch.zeros(320, 4);
        TorchCheckpointWriter.Save(path, [new("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight", down), new("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight", up)]);
        var report = ModelInspector.Inspect(path);
        Assert.Equal((ModelFileKind.Lora, ModelArchitecture.SD1, "pytorch-pickle"), (report.Kind, report.Architecture, report.Format));

        var lightning = ModelInspector.Inspect(Golden("sd_like.ckpt"));
        Assert.Equal("pytorch-pickle", lightning.Format);
        Assert.True(lightning.TensorCount > 0);
    }
}
