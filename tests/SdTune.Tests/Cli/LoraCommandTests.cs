using SdTune.Adapters;
using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.Tests.Workshop;
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

    [Fact]
    public void Lora_lists_its_subcommands()
    {
        var (code, output, error) = InspectCommandTests.Run("lora");
        Assert.Equal((2, ""), (code, output));
        Assert.Equal("error: sdtune lora needs a command: bake, merge, resize, extract, convert, block-weights (see sdtune lora --help)", error.TrimEnd('\n'));
    }

    [Fact]
    public void Resize_and_merge_run_and_report_bad_ranks_as_input_errors_naming_the_option()
    {
        using var dir = TestPaths.NewTempDir();
        string model, lora;
        using (var tiny = WorkshopTestKit.Sd1())
        {
            model = WorkshopTestKit.SaveSingleFile(tiny, dir.File("model.safetensors"));
            lora = WorkshopTestKit.WriteRandomLora(tiny, dir.File("lora.safetensors"), new LoraNetworkOptions { Dim = 4, Alpha = 4 }, seed: 1);
        }

        var resized = InspectCommandTests.Run("lora", "resize", lora, "--model", model, "--rank", "4", "--dynamic-method", "sv_fro", "--dynamic-param", "0.9", "--out", dir.File("small.safetensors"));
        Assert.True(resized.ExitCode == 0, resized.Error);
        Assert.Contains("relative Frobenius error mean", resized.Out, StringComparison.Ordinal);
        Assert.True(File.Exists(dir.File("small.safetensors")));

        var merged = InspectCommandTests.Run("lora", "merge", lora, dir.File("small.safetensors"), "--weights", "0.5,0.5", "--model", model, "--out", dir.File("merged.safetensors"));
        Assert.True(merged.ExitCode == 0, merged.Error);

        var tooHigh = InspectCommandTests.Run("lora", "merge", lora, "--method", "svd", "--rank", "5000", "--model", model, "--out", dir.File("m.safetensors"));
        Assert.Equal(2, tooHigh.ExitCode);
        Assert.StartsWith("error: --rank 5000 is above the dimension of module", tooHigh.Error, StringComparison.Ordinal);

        var overwrite = InspectCommandTests.Run("lora", "resize", lora, "--model", model, "--rank", "2", "--out", lora);
        Assert.Equal(2, overwrite.ExitCode);
        Assert.Contains("would overwrite the input", overwrite.Error, StringComparison.Ordinal);
    }
}
