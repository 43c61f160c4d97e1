using System.Globalization;
using System.Text.Json.Nodes;
using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.Imaging;
using SdTune.IO;
using SdTune.Models;
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
        // The writer orders them as Python's safetensors does, so the data section (and its hash) matches kohya's.
        var tensors = network.state_dict()
            .Select(kv => new KeyValuePair<string, Tensor>(kv.Key, PrepareTensor(kv.Value, options.SaveDType)))
            .ToList();

        var outputName = options.OutputName ?? Path.GetFileNameWithoutExtension(path);
        var training = TrainingKeys(network, options, outputName);
        return SaveTensors(path, tensors, training, ModelSpec(network.Architecture, options, outputName));
    }

    /// <summary>
    /// Writes tensors already named and typed as a kohya file (atomically), with kohya's <c>sshs_model_hash</c> and
    /// <c>sshs_legacy_hash</c> computed on them: the hashes of the serialization whose metadata holds only
    /// <paramref name="trainingKeys"/>.
    /// </summary>
    /// <param name="path">Destination <c>.safetensors</c> file.</param>
    /// <param name="tensors">The tensors under their kohya names.</param>
    /// <param name="trainingKeys">The <c>ss_*</c> keys.</param>
    /// <param name="otherKeys">Further metadata written after the hashes (<c>modelspec.*</c>, ...).</param>
    /// <returns>The metadata written.</returns>
    public static IReadOnlyDictionary<string, string> SaveTensors(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors,
        IReadOnlyDictionary<string, string> trainingKeys, IEnumerable<KeyValuePair<string, string>> otherKeys)
    {
        ArgumentNullException.ThrowIfNull(trainingKeys);
        ArgumentNullException.ThrowIfNull(otherKeys);

        // The hashes are defined on the serialization whose metadata holds only the ss_* keys: computed as it is
        // produced, without writing it. Its data section is the final file's (the order does not depend on metadata).
        var (modelHash, legacyHash) = ModelHashes.OfSafetensorsBytes(stream => SafetensorsWriter.Write(stream, tensors, trainingKeys));

        var metadata = new Dictionary<string, string>(trainingKeys, StringComparer.Ordinal)
        {
            ["sshs_model_hash"] = modelHash,
            ["sshs_legacy_hash"] = legacyHash,
        };
        foreach (var (key, value) in otherKeys)
        {
            metadata[key] = value;
        }

        SafetensorsWriter.Save(path, tensors, metadata);
        return metadata;
    }

    /// <summary>
    /// The keys every kohya LoRA file carries (what sd-scripts keeps even with <c>--no_metadata</c>) for a file of LoRA
    /// modules of the given rank and alpha: <c>ss_network_module</c>, <c>ss_network_dim</c>, <c>ss_network_alpha</c>,
    /// <c>ss_base_model_version</c>, <c>ss_v2</c> and the SAI <c>modelspec.*</c> keys.
    /// </summary>
    /// <param name="architecture">The model family.</param>
    /// <param name="dim">The (most common) rank.</param>
    /// <param name="alpha">The (most common) alpha.</param>
    /// <param name="title">The output name (<c>modelspec.title</c>).</param>
    /// <returns>The <c>ss_*</c> keys, and the others.</returns>
    public static (Dictionary<string, string> TrainingKeys, List<KeyValuePair<string, string>> OtherKeys) MinimumKeys(
        SdArchitecture architecture, int dim, double alpha, string title)
    {
        var training = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["ss_network_module"] = LoraModule.Algorithm.NetworkModule,
            ["ss_network_dim"] = dim.ToString(CultureInfo.InvariantCulture),
            ["ss_network_alpha"] = PythonJson.Float(alpha),
            ["ss_base_model_version"] = BaseModelVersion(architecture),
            ["ss_v2"] = architecture == SdArchitecture.SD2 ? "True" : "False",
        };
        return (training, [.. ModelSpec(architecture, new KohyaSaveOptions(), title)]);
    }

    /// <summary>
    /// Loads a kohya file into an existing network to continue training: every tensor of the network must be in the file
    /// under the same name and shape, and the file may hold nothing else.
    /// </summary>
    /// <exception cref="CheckpointFormatException">Missing, unexpected or mis-shaped tensors; the message lists them.</exception>
    public static WeightLoadReport LoadInto(LoraNetwork network, string path)
    {
        ArgumentNullException.ThrowIfNull(network);
        using var file = Checkpoints.TensorSources.Open(path); // safetensors or pickle, told apart by content
        return ModuleWeights.Load(network, file, strict: true);
    }

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
            ["ss_network_alpha"] = PythonJson.Float(alpha),
            ["ss_network_dropout"] = networkOptions is { Dropout: > 0 } ? PythonJson.Float(networkOptions.Dropout) : "None",
            ["ss_base_model_version"] = BaseModelVersion(network.Architecture),
            ["ss_v2"] = network.Architecture == SdArchitecture.SD2 ? "True" : "False",
        };
        if (options.ClipSkip is { } clipSkip)
        {
            keys["ss_clip_skip"] = clipSkip.ToString(CultureInfo.InvariantCulture);
        }

        if (NetworkArgs(networkOptions) is { Count: > 0 } args)
        {
            keys["ss_network_args"] = PythonJson.Serialize(args);
        }

        foreach (var (key, value) in options.TrainingMetadata)
        {
            keys[key] = value;
        }

        return keys;
    }

    /// <summary>
    /// kohya's <c>network_args</c>: the <c>key=value</c> strings the user gave, as a JSON object of strings. Numbers are
    /// written as a user would type them: whole numbers without a decimal point, others as Python prints them.
    /// </summary>
    private static JsonObject? NetworkArgs(LoraNetworkOptions? options)
    {
        if (options is null)
        {
            return null;
        }

        static string Number(double value) =>
            value == Math.Floor(value) && Math.Abs(value) < 1e15 ? value.ToString("0", CultureInfo.InvariantCulture) : PythonJson.Float(value);

        var args = new JsonObject();
        if (!string.Equals(options.Algorithm, "lora", StringComparison.OrdinalIgnoreCase))
        {
            args["algo"] = options.Algorithm;
        }

        if (options.ConvDim is { } convDim)
        {
            args["conv_dim"] = convDim.ToString(CultureInfo.InvariantCulture);
            args["conv_alpha"] = Number(options.ConvAlpha ?? 1);
        }

        if (options.RankDropout > 0)
        {
            args["rank_dropout"] = Number(options.RankDropout);
        }

        if (options.ModuleDropout > 0)
        {
            args["module_dropout"] = Number(options.ModuleDropout);
        }

        foreach (var (key, value) in options.AlgorithmArguments)
        {
            args[key] = value;
        }

        return args;
    }

    private static string BaseModelVersion(SdArchitecture architecture) => architecture switch
    {
        SdArchitecture.SdxlBase => "sdxl_base_v1-0",
        SdArchitecture.SD2 => "sd_v2",
        _ => "sd_v1",
    };

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
