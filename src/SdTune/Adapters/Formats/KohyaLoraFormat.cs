using System.Globalization;
using System.Text.Json;
using SdTune.Checkpoints.Safetensors;
using SdTune.Checkpoints.SingleFile;
using SdTune.Imaging;
using SdTune.Models;
using SdTune.Schedulers;
using static TorchSharp.torch;

namespace SdTune.Adapters.Formats;

/// <summary>
/// kohya's LoRA file (what sd-scripts writes and A1111/ComfyUI read): a flat safetensors file with
/// <c>&lt;name&gt;.lora_down.weight</c>, <c>&lt;name&gt;.lora_up.weight</c> and a 0-d <c>&lt;name&gt;.alpha</c> per module (or the
/// LyCORIS tensor names of LoHa/LoKr modules), <c>ss_*</c> training metadata, SAI <c>modelspec.*</c> keys and the
/// <c>sshs_*</c> hashes. Reading files of any layout is <see cref="LoraFileReader"/>.
/// </summary>
public static class KohyaLoraFormat
{
    /// <summary>Writes <paramref name="network"/> to <paramref name="path"/> (atomically).</summary>
    /// <param name="path">Destination <c>.safetensors</c> file.</param>
    /// <param name="network">The network; its module names are the kohya names.</param>
    /// <param name="options">Save type and metadata; null for defaults.</param>
    /// <returns>The metadata written.</returns>
    public static IReadOnlyDictionary<string, string> Save(string path, LoraNetwork network, KohyaSaveOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(network);
        options ??= new KohyaSaveOptions();
        using var scope = NewDisposeScope();
        // Sorted by name: the order Python's safetensors writes, so the data section (and its hash) matches kohya's.
        var tensors = network.state_dict()
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new KeyValuePair<string, Tensor>(kv.Key, PrepareTensor(kv.Value, options.SaveDType)))
            .ToList();

        var outputName = options.OutputName ?? Path.GetFileNameWithoutExtension(path);
        var training = TrainingKeys(network, options, outputName);

        // The hashes are defined on a serialization whose metadata holds only the ss_* keys.
        var probe = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.hash");
        string modelHash, legacyHash;
        try
        {
            SafetensorsWriter.Save(probe, tensors, training);
            modelHash = ModelHashes.SafetensorsDataHash(probe);
            legacyHash = ModelHashes.LegacyHash(probe);
        }
        finally
        {
            File.Delete(probe);
        }

        var metadata = new Dictionary<string, string>(training, StringComparer.Ordinal)
        {
            ["sshs_model_hash"] = modelHash,
            ["sshs_legacy_hash"] = legacyHash,
        };
        foreach (var (key, value) in ModelSpec(network.Architecture, options, outputName))
        {
            metadata[key] = value;
        }

        SafetensorsWriter.Save(path, tensors, metadata);
        return metadata;
    }

    /// <summary>
    /// Loads a kohya file into an existing network to continue training: every tensor of the network must be in the file
    /// under the same name and shape, and the file may hold nothing else.
    /// </summary>
    /// <exception cref="Checkpoints.CheckpointFormatException">Missing, unexpected or mis-shaped tensors; the message lists them.</exception>
    public static WeightLoadReport LoadInto(LoraNetwork network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        using var file = Checkpoints.TensorSources.Open(path); // safetensors or pickle, told apart by content
        return ModuleWeights.Load(network, file, strict: true);
    }

    /// <summary>Python's <c>str(float)</c> for the values kohya writes with it ("1.0", "0.5").</summary>
    internal static string PythonFloat(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e16
            ? value.ToString("0.0", CultureInfo.InvariantCulture)
            : value.ToString("R", CultureInfo.InvariantCulture);

    private static Tensor PrepareTensor(Tensor tensor, ScalarType? dtype)
    {
        var t = tensor.detach();
        if (dtype is { } d && t.dtype != d)
        {
            t = t.to(d);
        }

        return t.contiguous();
    }

    private static Dictionary<string, string> TrainingKeys(LoraNetwork network, KohyaSaveOptions options, string outputName)
    {
        var first = network.Entries.FirstOrDefault()?.Module;
        var networkOptions = network.Options;
        var algorithm = networkOptions is not null ? AdapterAlgorithms.Get(networkOptions.Algorithm)
            : first is not null ? AdapterAlgorithms.All.First(a => a.Name == first.GetName()) : LoraModule.Algorithm;
        var linear = network.Entries.FirstOrDefault(e => !e.Module.Target.IsSpatialConv)?.Module ?? first;
        var dim = networkOptions?.Dim ?? linear?.Rank ?? 0;
        var alpha = networkOptions?.Alpha is { } a && a != 0 ? a : linear?.Alpha ?? dim;

        var keys = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ss_output_name"] = outputName,
            ["ss_network_module"] = algorithm.NetworkModule,
            ["ss_network_dim"] = dim.ToString(CultureInfo.InvariantCulture),
            ["ss_network_alpha"] = PythonFloat(alpha),
            ["ss_network_dropout"] = networkOptions is { Dropout: > 0 } ? PythonFloat(networkOptions.Dropout) : "None",
            ["ss_base_model_version"] = network.Architecture switch
            {
                SdArchitecture.SdxlBase => "sdxl_base_v1-0",
                SdArchitecture.SD2 => "sd_v2",
                _ => "sd_v1",
            },
            ["ss_v2"] = network.Architecture == SdArchitecture.SD2 ? "True" : "False",
        };
        if (options.ClipSkip is { } clipSkip)
        {
            keys["ss_clip_skip"] = clipSkip.ToString(CultureInfo.InvariantCulture);
        }

        if (NetworkArgs(networkOptions) is { Count: > 0 } args)
        {
            keys["ss_network_args"] = JsonSerializer.Serialize(args);
        }

        foreach (var (key, value) in options.TrainingMetadata)
        {
            keys[key] = value;
        }

        return keys;
    }

    private static Dictionary<string, string>? NetworkArgs(LoraNetworkOptions? options)
    {
        if (options is null)
        {
            return null;
        }

        var args = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!string.Equals(options.Algorithm, "lora", StringComparison.OrdinalIgnoreCase))
        {
            args["algo"] = options.Algorithm;
        }

        if (options.ConvDim is { } convDim)
        {
            args["conv_dim"] = convDim.ToString(CultureInfo.InvariantCulture);
            args["conv_alpha"] = (options.ConvAlpha ?? 1).ToString(CultureInfo.InvariantCulture);
        }

        if (options.RankDropout > 0)
        {
            args["rank_dropout"] = options.RankDropout.ToString(CultureInfo.InvariantCulture);
        }

        if (options.ModuleDropout > 0)
        {
            args["module_dropout"] = options.ModuleDropout.ToString(CultureInfo.InvariantCulture);
        }

        foreach (var (key, value) in options.AlgorithmArguments)
        {
            args[key] = value;
        }

        return args;
    }

    private static IEnumerable<KeyValuePair<string, string>> ModelSpec(SdArchitecture architecture, KohyaSaveOptions options, string title)
    {
        var v = options.PredictionType == PredictionType.VPrediction;
        var (arch, implementation, resolution) = architecture switch
        {
            SdArchitecture.SdxlBase => ("stable-diffusion-xl-v1-base", "https://github.com/Stability-AI/generative-models", "1024x1024"),
            SdArchitecture.SD2 when v => ("stable-diffusion-v2-768-v", "diffusers", "768x768"),
            SdArchitecture.SD2 => ("stable-diffusion-v2-512", "diffusers", "512x512"),
            _ => ("stable-diffusion-v1", "diffusers", "512x512"),
        };
        var date = (options.Date ?? DateTimeOffset.Now).ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        yield return new("modelspec.sai_model_spec", "1.0.1");
        yield return new("modelspec.architecture", arch + "/lora");
        yield return new("modelspec.implementation", implementation);
        yield return new("modelspec.title", title);
        yield return new("modelspec.resolution", options.Resolution ?? resolution);
        yield return new("modelspec.date", date);
        yield return new("modelspec.prediction_type", v ? "v" : "epsilon");
        if (options.ClipSkip is { } clipSkip)
        {
            yield return new("modelspec.encoder_layer", clipSkip.ToString(CultureInfo.InvariantCulture));
        }
    }
}
