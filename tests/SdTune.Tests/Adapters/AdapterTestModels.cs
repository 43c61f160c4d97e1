using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.Models.Unet;
using SdTune.Tests.Models;
using static TorchSharp.torch;

namespace SdTune.Tests.Adapters;

/// <summary>The tiny reference UNet with its fixture inputs, for adapter tests.</summary>
internal static class AdapterTestModels
{
    public static UNet2DConditionModel LoadTinyUNet()
    {
        var config = UNet2DConditionConfig.Load(TestPaths.Fixture("unet_sd1_tiny.config.json"));
        var unet = new UNet2DConditionModel(config);
        unet.eval();
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("unet_sd1_tiny.safetensors"));
        ModuleWeights.Load(unet, fixture, ignore: ModelTestUtil.IsFixtureData);
        return unet;
    }

    /// <summary>Runs the tiny UNet on the fixture's inputs.</summary>
    public static Tensor Run(UNet2DConditionModel unet)
    {
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("unet_sd1_tiny.safetensors"));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var output = unet.forward(fixture.Read("input.sample"), fixture.Read("input.timestep"), fixture.Read("input.encoder_hidden_states"));
        return output.MoveToOuterDisposeScope();
    }

    public static double MaxAbs(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return (a.to(ScalarType.Float64) - b.to(ScalarType.Float64)).abs().max().item<double>();
    }
}
