using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using SdTune.Training.Optimization;
using static TorchSharp.torch;

namespace SdTune.Training;

/// <summary>
/// A resumable training state folder (<c>{name}-step{N:08d}-state/</c>): the method's trainable tensors
/// (<c>method.safetensors</c>), the optimizer snapshot (<c>optimizer.safetensors</c>), EMA weights (<c>ema.safetensors</c>),
/// random generator states (<c>rng.safetensors</c>), counters, data position and loss scaler (<c>train_state.json</c>), and
/// the resolved configuration (<c>config.resolved.toml</c>). The folder is written under a temporary name and renamed
/// into place, so a state folder is always complete.
/// </summary>
internal sealed class TrainingState
{
    public const string MethodFile = "method.safetensors";
    public const string OptimizerFile = "optimizer.safetensors";
    public const string EmaFile = "ema.safetensors";
    public const string RngFile = "rng.safetensors";
    public const string CountersFile = "train_state.json";
    public const string ConfigFile = "config.resolved.toml";

    public required string Method { get; init; }

    public required long GlobalStep { get; init; }

    /// <summary>The epoch of the next micro-batch (1-based).</summary>
    public required int Epoch { get; init; }

    /// <summary>The index of the next micro-batch in <see cref="Epoch"/>.</summary>
    public required int BatchIndex { get; init; }

    public required long SessionId { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public double? LossScale { get; init; }

    public int LossScaleGrowthTracker { get; init; }

    public required string ConfigToml { get; init; }

    public static void Save(
        string folder,
        TrainingState state,
        IReadOnlyList<KeyValuePair<string, Tensor>> methodState,
        OptimizerSnapshot optimizer,
        IReadOnlyList<KeyValuePair<string, Tensor>>? ema,
        IReadOnlyList<KeyValuePair<string, Tensor>> rng)
    {
        AtomicFolder.Write(folder, staging =>
        {
            SafetensorsWriter.Save(Path.Combine(staging, MethodFile), methodState, new Dictionary<string, string> { ["sdtune.method"] = state.Method });
            optimizer.Save(Path.Combine(staging, OptimizerFile));
            if (ema is not null)
            {
                SafetensorsWriter.Save(Path.Combine(staging, EmaFile), ema);
            }

            SafetensorsWriter.Save(Path.Combine(staging, RngFile), rng);
            var counters = new JsonObject
            {
                ["method"] = state.Method,
                ["global_step"] = state.GlobalStep,
                ["current_step"] = state.GlobalStep,
                ["epoch"] = state.Epoch,
                ["current_epoch"] = state.Epoch,
                ["batch_index"] = state.BatchIndex,
                ["session_id"] = state.SessionId,
                ["started_at"] = state.StartedAt.ToUnixTimeMilliseconds(),
                ["loss_scale"] = state.LossScale,
                ["loss_scale_growth_tracker"] = state.LossScaleGrowthTracker,
            };
            AtomicFile.WriteAllText(Path.Combine(staging, CountersFile), counters.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            AtomicFile.WriteAllText(Path.Combine(staging, ConfigFile), state.ConfigToml);
        });
    }

    public static TrainingState Load(string folder)
    {
        var counters = Path.Combine(folder, CountersFile);
        if (!Directory.Exists(folder) || !File.Exists(counters))
        {
            throw new TrainingConfigException("resume", $"{folder} is not a training state folder (no {CountersFile}).");
        }

        try
        {
            var json = JsonNode.Parse(File.ReadAllText(counters)) as JsonObject
                ?? throw new InvalidDataException($"{counters}: not a JSON object.");
            return new TrainingState
            {
                Method = Get<string>(json, "method", counters),
                GlobalStep = Get<long>(json, "global_step", counters),
                Epoch = Get<int>(json, "epoch", counters),
                BatchIndex = Get<int>(json, "batch_index", counters),
                SessionId = Get<long>(json, "session_id", counters),
                StartedAt = DateTimeOffset.FromUnixTimeMilliseconds(Get<long>(json, "started_at", counters)),
                LossScale = json["loss_scale"]?.GetValue<double>(),
                LossScaleGrowthTracker = Get<int>(json, "loss_scale_growth_tracker", counters),
                ConfigToml = File.Exists(Path.Combine(folder, ConfigFile)) ? File.ReadAllText(Path.Combine(folder, ConfigFile)) : "",
            };
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException)
        {
            throw new InvalidDataException($"{counters}: {e.Message}", e);
        }
    }

    public static Dictionary<string, Tensor> ReadTensors(string folder, string file)
    {
        var path = Path.Combine(folder, file);
        if (!File.Exists(path))
        {
            throw new InvalidDataException($"{folder}: the state lacks {file}.");
        }

        using var reader = SafetensorsFile.Open(path);
        return reader.ReadAll().ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    public static string FolderName(string outputName, long step) =>
        string.Create(CultureInfo.InvariantCulture, $"{outputName}-step{step:D8}-state");

    private static T Get<T>(JsonObject json, string key, string file) =>
        json[key] is { } node ? node.GetValue<T>() : throw new InvalidDataException($"{file}: '{key}' is missing.");
}
