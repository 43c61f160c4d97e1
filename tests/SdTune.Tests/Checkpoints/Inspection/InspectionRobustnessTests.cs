using SdTune.Checkpoints.Inspection;
using SdTune.Checkpoints.Safetensors;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Inspection;

/// <summary>Valid files with surprising contents (0-d tensors where a width is looked for) are described, not crashed on.</summary>
public class InspectionRobustnessTests
{
    [Theory]
    [InlineData("lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight", ModelFileKind.Lora)]
    [InlineData("lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", ModelFileKind.Lora)]
    [InlineData("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight", ModelFileKind.Lora)]
    [InlineData("text_model.embeddings.token_embedding.weight", ModelFileKind.TextEncoder)]
    public void Zero_dimensional_tensors_under_names_that_carry_a_width_are_inspected(string name, ModelFileKind kind)
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("scalar.safetensors");
        using var scalar = tensor(1f);
        SafetensorsWriter.Save(path, [new(name, scalar)]);
        var report = ModelInspector.Inspect(path);
        Assert.Equal(kind, report.Kind);
        Assert.Equal(ModelArchitecture.Unknown, report.Architecture);
    }
}
