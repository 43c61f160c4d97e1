using SdTune.Adapters;
using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Workshop.Lora;
using static TorchSharp.torch;

namespace SdTune.Tests.Workshop;

public class LoraBakeTests
{
    // BASE, IN00..IN11, M00, OUT00..OUT11: every slot different, so a block mapped to the wrong slot shows.
    private static readonly double[] BlockWeights = [.. Enumerable.Range(0, 26).Select(i => 0.3 + (0.05 * i))];

    [Theory]
    [InlineData("baked.safetensors")]
    [InlineData("baked-pipeline")]
    public void Baked_model_computes_what_the_lora_applied_through_hooks_computes(string output)
    {
        using var dir = TestPaths.NewTempDir();
        string modelPath, loraPath;
        using (var model = WorkshopTestKit.Sd1())
        {
            modelPath = WorkshopTestKit.SaveSingleFile(model, dir.File("base.safetensors"));
            loraPath = WorkshopTestKit.WriteRandomLora(model, dir.File("lora.safetensors"), new LoraNetworkOptions { Dim = 3, Alpha = 2, ConvDim = 2, ConvAlpha = 1 }, seed: 5);
        }

        var result = LoraBake.Run(new LoraBakeOptions
        {
            Model = modelPath,
            Lora = loraPath,
            Output = dir.File(output),
            Weight = 0.7,
            TextEncoderWeight = 0.4,
            BlockWeights = BlockWeights,
        });
        Assert.Equal(dir.File(output), result.Output);
        Assert.Equal(output.EndsWith(".safetensors", StringComparison.Ordinal), File.Exists(result.Output));

        using var baked = StableDiffusionModels.Load(result.Output);
        using var hooked = StableDiffusionModels.Load(modelPath);
        using var reference = StableDiffusionModels.Load(modelPath);
        using var applied = LoraApplier.Apply(WorkshopTestKit.Targets(hooked), loraPath, 0.4, 0.7, LoraApplyMode.Hooks, BlockWeights);
        Assert.Empty(applied.File.UnmatchedKeys);

        using var scope = NewDisposeScope();
        var (bakedUnet, bakedText) = Outputs(baked);
        var (hookedUnet, hookedText) = Outputs(hooked);
        var (plainUnet, plainText) = Outputs(reference);
        // The LoRA changes both models clearly; baking reproduces the hooks to float32 rounding.
        Assert.True(WorkshopTestKit.RelativeDifference(plainUnet, hookedUnet) > 1e-2);
        Assert.True(WorkshopTestKit.RelativeDifference(plainText, hookedText) > 1e-2);
        Assert.True(WorkshopTestKit.RelativeDifference(bakedUnet, hookedUnet) < 1e-5, $"UNet differs by {WorkshopTestKit.RelativeDifference(bakedUnet, hookedUnet)}");
        Assert.True(WorkshopTestKit.RelativeDifference(bakedText, hookedText) < 1e-5, $"text encoder differs by {WorkshopTestKit.RelativeDifference(bakedText, hookedText)}");
    }

    [Fact]
    public void Bake_refuses_to_overwrite_its_inputs_and_loras_of_another_family()
    {
        using var dir = TestPaths.NewTempDir();
        string modelPath, xlLora;
        using (var model = WorkshopTestKit.Sd1())
        {
            modelPath = WorkshopTestKit.SaveSingleFile(model, dir.File("base.safetensors"));
        }

        using (var xl = WorkshopTestKit.Sdxl())
        {
            xlLora = WorkshopTestKit.WriteRandomLora(xl, dir.File("xl.safetensors"), new LoraNetworkOptions { Dim = 2 }, seed: 3);
        }

        var before = File.ReadAllBytes(modelPath);
        var overwrite = Assert.Throws<ArgumentException>(() => LoraBake.Run(new LoraBakeOptions { Model = modelPath, Lora = xlLora, Output = modelPath }));
        Assert.Contains("--out", overwrite.Message, StringComparison.Ordinal);
        Assert.Contains("would overwrite the input", overwrite.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(modelPath));

        // A folder output holding the input would replace it too.
        Assert.Throws<ArgumentException>(() => LoraBake.Run(new LoraBakeOptions { Model = modelPath, Lora = xlLora, Output = dir.Path }));

        var family = Assert.Throws<ArgumentException>(() => LoraBake.Run(new LoraBakeOptions { Model = modelPath, Lora = xlLora, Output = dir.File("out.safetensors") }));
        Assert.Contains("xl.safetensors is a LoRA for SDXL", family.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("out.safetensors")));
    }

    private static (Tensor Unet, Tensor Text) Outputs(StableDiffusionModel model)
    {
        var generator = new Generator(11);
        using var noGrad = no_grad();
        var sample = randn([1, 4, 16, 16], generator: generator);
        var context = randn([1, 8, model.Unet.Config.CrossAttentionDim[0]], generator: generator);
        var unet = model.Unet.forward(sample, tensor(new long[] { 500 }), context);
        var ids = tensor(new long[] { 49406, 320, 1125, 539, 550, 49407, 49407, 49407 }).unsqueeze(0);
        using var text = model.TextEncoder.forward(ids);
        return (unet, text.LastHiddenState.clone());
    }
}
