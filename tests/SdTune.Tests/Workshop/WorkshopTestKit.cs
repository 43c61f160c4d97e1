using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Tests.Checkpoints.Formats;
using static TorchSharp.torch;

namespace SdTune.Tests.Workshop;

/// <summary>Tiny models and random LoRA files for the workshop tests.</summary>
internal static class WorkshopTestKit
{
    /// <summary>The tiny SD 1.x model (768-wide cross-attention, so files of it read as SD 1.x) at sensible weight scales.</summary>
    public static StableDiffusionModel Sd1(int seed = 1) => TinyModels.WithReferenceScaledWeights(TinyModels.Sd1(seed), seed);

    /// <summary>The tiny SDXL-like model at sensible weight scales.</summary>
    public static StableDiffusionModel Sdxl(int seed = 2) => TinyModels.WithReferenceScaledWeights(TinyModels.Sdxl(seed), seed);

    public static LoraTargets Targets(StableDiffusionModel model) => new(model.Unet, model.TextEncoder, model.TextEncoder2);

    /// <summary>
    /// Writes a LoRA of <paramref name="options"/> for <paramref name="model"/> with random factors (every module changes
    /// its layer) and returns the path.
    /// </summary>
    public static string WriteRandomLora(StableDiffusionModel model, string path, LoraNetworkOptions options, int seed, double std = 0.2)
    {
        using var network = LoraNetwork.Create(Targets(model), options);
        var generator = new Generator((ulong)seed);
        using (no_grad())
        {
            foreach (var parameter in network.parameters())
            {
                using var values = randn(parameter.shape, generator: generator) * std;
                parameter.copy_(values);
            }
        }

        KohyaLoraFormat.Save(path, network, new KohyaSaveOptions { Date = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero) });
        return path;
    }

    /// <summary>Every module's delta (scale applied, multiplier not), float64, by kohya name.</summary>
    public static Dictionary<string, Tensor> Deltas(string path, LoraTargets targets)
    {
        var file = LoraFileReader.Read(path, targets);
        using var network = file.Network;
        Assert.Empty(file.UnmatchedKeys);
        using var noGrad = no_grad();
        return network.Entries.ToDictionary(e => e.Name, e => e.Module.DeltaWeight().to(ScalarType.Float64), StringComparer.Ordinal);
    }

    /// <summary>The ranks of a file's modules, by kohya name.</summary>
    public static Dictionary<string, int> Ranks(string path, LoraTargets targets)
    {
        var file = LoraFileReader.Read(path, targets);
        using var network = file.Network;
        return network.Entries.ToDictionary(e => e.Name, e => e.Module.Rank, StringComparer.Ordinal);
    }

    /// <summary><c>‖a − b‖ / ‖b‖</c>.</summary>
    public static double RelativeDifference(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        var reference = b.to(ScalarType.Float64);
        return (a.to(ScalarType.Float64) - reference).norm().item<double>() / Math.Max(reference.norm().item<double>(), 1e-30);
    }

    /// <summary>Saves a model as a single file and returns the path.</summary>
    public static string SaveSingleFile(StableDiffusionModel model, string path)
    {
        SingleFileFormat.Save(model, path);
        return path;
    }
}
