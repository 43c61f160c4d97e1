using SdTune.Checkpoints.Control;
using SdTune.Models.Control;
using SdTune.Models.Unet;
using SdTune.Tests.Models.Control;
using SkiaSharp;

namespace SdTune.Tests.Pipelines.Control;

/// <summary>Tiny ControlNets and T2I-Adapters that fit <see cref="PipelineModels.Sd1"/> (VAE and embedding both shrink 2x), saved as diffusers folders.</summary>
internal static class ControlTestModels
{
    /// <summary>A fresh ControlNet copied from <paramref name="unet"/> (zero convolutions zero), or with random zero convolutions.</summary>
    public static string ControlNet(TempDir dir, UNet2DConditionModel unet, string name, int? randomSeed = null)
    {
        using var controlNet = ControlNetModel.FromUnet(unet, ControlNetBehaviourTests.TinyEmbedding);
        if (randomSeed is { } seed)
        {
            ControlNetBehaviourTests.Randomise(controlNet, seed);
        }

        var folder = dir.File(name);
        ControlNetFiles.SaveFolder(controlNet, folder);
        return folder;
    }

    /// <summary>A ControlNet for a UNet with other widths (64/128): it does not fit the tiny model.</summary>
    public static string WrongControlNet(TempDir dir, UNet2DConditionModel unet)
    {
        using var other = new ControlNetModel(ControlNetConfig.FromUnet(unet.Config with { BlockOutChannels = [64, 128] }, ControlNetBehaviourTests.TinyEmbedding));
        var folder = dir.File("wrong-controlnet");
        ControlNetFiles.SaveFolder(other, folder);
        return folder;
    }

    /// <summary>A randomly initialised full adapter with the tiny UNet's widths (32, 64) and a 2x pixel unshuffle.</summary>
    public static string Adapter(TempDir dir, string name = "adapter")
    {
        TorchSharp.torch.manual_seed(5);
        using var adapter = new T2IAdapter(new T2IAdapterConfig { Channels = [32, 64], NumResBlocks = 1, DownscaleFactor = 2 });
        var folder = dir.File(name);
        T2IAdapterFiles.SaveFolder(adapter, folder);
        return folder;
    }

    /// <summary>A 32x32 control image: a white ring on black.</summary>
    public static SKBitmap Image() => Imaging.TestImages.Create(32, 32, (x, y) =>
    {
        var r = Math.Sqrt(((x - 15.5) * (x - 15.5)) + ((y - 15.5) * (y - 15.5)));
        return r is > 7 and < 11 ? SKColors.White : SKColors.Black;
    });
}
