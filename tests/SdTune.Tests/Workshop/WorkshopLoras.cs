using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Workshop;

/// <summary>Tiny SD 1.x-like and SDXL-like models and kohya LoRA files on them, for the LoRA file tools.</summary>
internal static class WorkshopLoras
{
    public static StableDiffusionModel Model(bool sdxl) => sdxl ? TrainingTestKit.TinySdxl() : TrainingTestKit.TinyModel();

    public static LoraTargets Targets(StableDiffusionModel model) => new(model.Unet, model.TextEncoder, model.TextEncoder2);

    /// <summary>
    /// A kohya file with every factor random: rank 4 and alpha 3 on linear layers, rank 2 and alpha 1 on convolutions, and
    /// every fifth module with its own alpha (so the PEFT side needs an alpha pattern).
    /// </summary>
    public static void WriteKohya(string path, LoraTargets targets, ScalarType? dtype = null)
    {
        using var network = LoraNetwork.Create(targets, new LoraNetworkOptions { Dim = 4, Alpha = 3, ConvDim = 2, ConvAlpha = 1 });
        using (no_grad())
        {
            var generator = new Generator(11);
            foreach (var (_, p) in network.named_parameters())
            {
                p.copy_(randn(p.shape, generator: generator) * 0.3);
            }

            var alphas = network.state_dict().Where(kv => kv.Key.EndsWith(".alpha", StringComparison.Ordinal)).ToList();
            for (var i = 0; i < alphas.Count; i += 5)
            {
                alphas[i].Value.fill_(0.1 * (i + 1));
            }
        }

        KohyaLoraFormat.Save(path, network, new KohyaSaveOptions { SaveDType = dtype });
    }

    /// <summary>Every tensor of a file by name.</summary>
    public static Dictionary<string, Tensor> Tensors(string path)
    {
        using var file = TensorSources.Open(path);
        return file.Entries.ToDictionary(e => e.Name, e => file.Read(e.Name));
    }

    /// <summary>Each module's scaled delta (kohya name → ΔW), as the reader applies it.</summary>
    public static Dictionary<string, Tensor> Deltas(string path, LoraTargets targets)
    {
        var file = LoraFileReader.Read(path, targets);
        using var network = file.Network;
        using var noGrad = no_grad();
        return network.Entries.ToDictionary(e => e.Name, e => e.Module.DeltaWeight().detach().clone());
    }

    public static bool BitEqual(Tensor a, Tensor b) => a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>Every parameter of the models, by component and name.</summary>
    public static Dictionary<string, Tensor> Weights(StableDiffusionModel model)
    {
        var all = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (prefix, module) in new (string, nn.Module?)[] { ("unet", model.Unet), ("te", model.TextEncoder), ("te2", model.TextEncoder2) })
        {
            foreach (var (name, p) in module?.named_parameters() ?? [])
            {
                all[prefix + "." + name] = p.detach().clone();
            }
        }

        return all;
    }
}
