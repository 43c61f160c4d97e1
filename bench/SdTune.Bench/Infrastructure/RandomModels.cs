using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Models.Clip;
using SdTune.Models.Control;
using SdTune.Models.Unet;
using SdTune.Models.Vae;
using SdTune.Runtime;
using SdTune.Text;
using static TorchSharp.torch;

namespace SdTune.Bench.Infrastructure;

/// <summary>Full-size or small models with random weights at sensible scales, built without random-init cost.</summary>
internal static class RandomModels
{
    /// <summary>
    /// Builds a model on the meta device, gives it memory in <paramref name="dtype"/> (the VAE stays float32) and fills
    /// it with reference-style values: matrices r/sqrt(fan_in), norm weights ~1, biases small, so activations stay finite.
    /// </summary>
    public static StableDiffusionModel Create(UNet2DConditionConfig unetConfig, AutoencoderKLConfig vaeConfig, ClipTextConfig textConfig,
        ClipTextConfig? text2Config = null, ScalarType dtype = ScalarType.Float32, ulong seed = 7) =>
        Create(new StableDiffusionPreset("random", unetConfig, vaeConfig, textConfig, text2Config), dtype, seed);

    /// <summary>A ControlNet for <paramref name="unet"/> (diffusers' layout, SD's 8x conditioning embedding) with random weights, zero convolutions included.</summary>
    public static ControlNetModel ControlNet(UNet2DConditionConfig unet, ScalarType dtype = ScalarType.Float32, ulong seed = 11)
    {
        var controlNet = ModuleMaterializer.OnMeta(() => new ControlNetModel(ControlNetConfig.FromUnet(unet)));
        Fill(controlNet, dtype, new Generator(seed));
        return controlNet;
    }

    /// <summary>
    /// Gives a meta-device module memory in <paramref name="dtype"/> and fills it with reference-style values:
    /// matrices r/sqrt(fan_in), norm weights ~1, biases small, so activations stay finite. Leaves it in eval mode.
    /// </summary>
    private static void Fill(nn.Module module, ScalarType dtype, Generator generator)
    {
        ModuleMaterializer.MaterializeEmpty(module, dtype);
        using (no_grad())
        {
            foreach (var (name, parameter) in module.named_parameters())
            {
                if (parameter.dim() >= 2)
                {
                    parameter.normal_(0, 1.0 / Math.Sqrt(parameter.shape.Skip(1).Aggregate(1L, (a, b) => a * b)), generator);
                }
                else
                {
                    parameter.normal_(name.EndsWith("weight", StringComparison.Ordinal) ? 1.0 : 0.0, 0.1, generator);
                }
            }
        }

        module.eval();
    }

    /// <summary>A published release's architecture with random weights.</summary>
    public static StableDiffusionModel Create(StableDiffusionPreset preset, ScalarType dtype = ScalarType.Float32, ulong seed = 7)
    {
        var model = StableDiffusionModels.CreateEmpty(preset, dtype);
        var generator = new Generator(seed);
        foreach (var module in model.Modules)
        {
            Fill(module, module.parameters().First().dtype, generator);
        }

        return model;
    }
}
