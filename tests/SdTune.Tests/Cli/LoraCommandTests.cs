using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using static TorchSharp.torch;

namespace SdTune.Tests.Cli;

public class LoraCommandTests
{
    private static string Sd15Lora(TempDir dir)
    {
        var path = dir.File("style.safetensors");
        const string name = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k";
        SafetensorsWriter.Save(path, [
            new(name + ".lora_down.weight", randn(4, 768)),
            new(name + ".lora_up.weight", randn(320, 4)),
            new(name + ".alpha", tensor(2f)),
            new("lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", randn(4, 768)),
            new("lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight", randn(768, 4)),
            new("lora_te_text_model_encoder_layers_0_self_attn_q_proj.alpha", tensor(1f))]);
        return path;
    }

    [Fact]
    public void Convert_writes_peft_keys_and_back()
    {
        using var dir = TestPaths.NewTempDir();
        var input = Sd15Lora(dir);
        var (code, output, error) = InspectCommandTests.Run("lora", "convert", input, "--out", dir.File("style-peft.safetensors"));
        Assert.True(code == 0, error);
        Assert.Contains("2 modules, kohya -> peft (SD1)", output, StringComparison.Ordinal);
        using (var file = TensorSources.Open(dir.File("style-peft.safetensors")))
        {
            Assert.True(file.Contains("text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_A.weight"));
        }

        (code, output, error) = InspectCommandTests.Run("lora", "convert", dir.File("style-peft.safetensors"), "--out", dir.File("style-back.safetensors"), "--to", "kohya", "--architecture", "sd1");
        Assert.True(code == 0, error);
        Assert.Contains("peft -> kohya", output, StringComparison.Ordinal);

        (code, _, error) = InspectCommandTests.Run("lora", "convert", input, "--out", input);
        Assert.Equal(2, code);
        Assert.Contains("overwrite the input", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Block_weights_take_presets_and_name_the_option_in_errors()
    {
        using var dir = TestPaths.NewTempDir();
        var input = Sd15Lora(dir);
        var (code, output, error) = InspectCommandTests.Run("lora", "block-weights", input, "--weights", "OUTALL", "--out", dir.File("out.safetensors"));
        Assert.True(code == 0, error);
        Assert.Contains("2 modules scaled by 1,0,0,0,0,0,0,0,1,1,1,1,1,1,1,1,1 (SD1)", output, StringComparison.Ordinal);

        (code, _, error) = InspectCommandTests.Run("lora", "block-weights", input, "--weights", "1,0,1", "--out", dir.File("bad.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("--weights: block weights need 12, 17, 20 or 26 values", error, StringComparison.Ordinal);

        (code, _, error) = InspectCommandTests.Run("lora", "block-weights", input, "--weights", "NOPE", "--out", dir.File("bad.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("Valid presets: NONE, ALL, INS", error, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("bad.safetensors")));
    }
}
