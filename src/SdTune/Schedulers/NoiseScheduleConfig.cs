using System.Globalization;
using System.Text.Json;
using SdTune.IO;
using SdTune.Models;
using SdTune.Models.Layers;

namespace SdTune.Schedulers;

/// <summary>
/// The noise schedule and sampling conventions of a diffusers <c>scheduler_config.json</c>. Fields left out of a
/// file take diffusers' constructor defaults (the initialisers below); fields this library does not use
/// (<c>skip_prk_steps</c>, <c>variance_type</c>, …) are ignored, as diffusers' <c>from_config</c> ignores them.
/// </summary>
public sealed record NoiseScheduleConfig
{
    /// <summary>The diffusers class the file was written for (<c>_class_name</c>), informational; null when absent.</summary>
    public string? ClassName { get; init; }

    /// <summary>Number of training timesteps T (<c>num_train_timesteps</c>).</summary>
    public int NumTrainTimesteps { get; init; } = 1000;

    /// <summary>First beta (<c>beta_start</c>).</summary>
    public double BetaStart { get; init; } = 0.0001;

    /// <summary>Last beta (<c>beta_end</c>).</summary>
    public double BetaEnd { get; init; } = 0.02;

    /// <summary>Layout of the betas (<c>beta_schedule</c>); ignored when <see cref="TrainedBetas"/> is set.</summary>
    public BetaSchedule BetaSchedule { get; init; } = BetaSchedule.Linear;

    /// <summary>Explicit betas, one per training timestep (<c>trained_betas</c>), or null.</summary>
    public IReadOnlyList<double>? TrainedBetas { get; init; }

    /// <summary>What the model predicts (<c>prediction_type</c>).</summary>
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;

    /// <summary>
    /// Inference timestep spacing (<c>timestep_spacing</c>), or null when the file does not say; each sampler then
    /// uses its diffusers default (DDIM: leading; Euler, Euler ancestral, DPM-Solver: linspace).
    /// </summary>
    public TimestepSpacing? TimestepSpacing { get; init; }

    /// <summary>Added to every timestep under leading spacing (<c>steps_offset</c>; Stable Diffusion uses 1).</summary>
    public int StepsOffset { get; init; }

    /// <summary>
    /// DDIM: whether the step after the last one uses ᾱ = 1 (<c>set_alpha_to_one</c>) rather than ᾱ₀;
    /// null when absent (diffusers' DDIM default is true; Stable Diffusion configs say false).
    /// </summary>
    public bool? SetAlphaToOne { get; init; }

    /// <summary>DDIM: clamp the predicted x₀ to ±<see cref="ClipSampleRange"/> (<c>clip_sample</c>); null when absent (DDIM default true).</summary>
    public bool? ClipSample { get; init; }

    /// <summary>The bound of <see cref="ClipSample"/> (<c>clip_sample_range</c>).</summary>
    public double ClipSampleRange { get; init; } = 1.0;

    /// <summary>Rescale the betas to zero terminal SNR (<c>rescale_betas_zero_snr</c>, Lin et al. 2023, algorithm 1).</summary>
    public bool RescaleBetasZeroSnr { get; init; }

    /// <summary>
    /// The schedule every Stable Diffusion model (1.x, 2.x, XL) was trained with: scaled_linear betas from 0.00085 to
    /// 0.012 over 1000 steps, steps_offset 1, set_alpha_to_one false, clip_sample false, ε-prediction.
    /// </summary>
    public static NoiseScheduleConfig StableDiffusion { get; } = new()
    {
        BetaStart = 0.00085,
        BetaEnd = 0.012,
        BetaSchedule = BetaSchedule.ScaledLinear,
        StepsOffset = 1,
        SetAlphaToOne = false,
        ClipSample = false,
    };

    /// <summary>Reads a diffusers <c>scheduler_config.json</c>.</summary>
    /// <exception cref="CheckpointFormatException">The file is not valid JSON or a field is invalid; the message names the file and field.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static NoiseScheduleConfig FromJsonFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Parses the text of a diffusers <c>scheduler_config.json</c>.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="sourceName">How error messages name the source (usually the file path).</param>
    /// <exception cref="CheckpointFormatException">The text is not valid JSON or a field is invalid; the message names the source and field.</exception>
    public static NoiseScheduleConfig FromJson(string json, string sourceName = "scheduler_config.json")
    {
        using (var document = ConfigJson.ParseObject(json, sourceName))
        {
            var root = document.RootElement;

            var reader = new FieldReader(root, sourceName);
            var defaults = new NoiseScheduleConfig();
            var config = new NoiseScheduleConfig
            {
                ClassName = reader.String("_class_name"),
                NumTrainTimesteps = reader.Int("num_train_timesteps") ?? defaults.NumTrainTimesteps,
                BetaStart = reader.Double("beta_start") ?? defaults.BetaStart,
                BetaEnd = reader.Double("beta_end") ?? defaults.BetaEnd,
                BetaSchedule = reader.Choice("beta_schedule", BetaSchedules) ?? defaults.BetaSchedule,
                TrainedBetas = reader.DoubleArray("trained_betas"),
                PredictionType = reader.Choice("prediction_type", PredictionTypes) ?? defaults.PredictionType,
                TimestepSpacing = reader.Choice("timestep_spacing", Spacings),
                StepsOffset = reader.Int("steps_offset") ?? defaults.StepsOffset,
                SetAlphaToOne = reader.Bool("set_alpha_to_one"),
                ClipSample = reader.Bool("clip_sample"),
                ClipSampleRange = reader.Double("clip_sample_range") ?? defaults.ClipSampleRange,
                RescaleBetasZeroSnr = reader.Bool("rescale_betas_zero_snr") ?? defaults.RescaleBetasZeroSnr,
            };

            if (config.FindProblem() is { } problem)
            {
                throw reader.Error(problem.Field, problem.Message);
            }

            return config;
        }
    }

    /// <summary>Checks that the values describe a usable schedule.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names the config field.</exception>
    public void Validate()
    {
        if (FindProblem() is { } problem)
        {
            throw new ArgumentException($"Invalid scheduler config: '{problem.Field}' {problem.Message}.");
        }
    }

    private static readonly (string Name, BetaSchedule Value)[] BetaSchedules =
        [("linear", BetaSchedule.Linear), ("scaled_linear", BetaSchedule.ScaledLinear), ("squaredcos_cap_v2", BetaSchedule.SquaredCosCapV2)];

    private static readonly (string Name, PredictionType Value)[] PredictionTypes =
        [("epsilon", PredictionType.Epsilon), ("v_prediction", PredictionType.VPrediction), ("sample", PredictionType.Sample)];

    private static readonly (string Name, TimestepSpacing Value)[] Spacings =
        [("leading", Schedulers.TimestepSpacing.Leading), ("linspace", Schedulers.TimestepSpacing.Linspace), ("trailing", Schedulers.TimestepSpacing.Trailing)];

    private (string Field, string Message)? FindProblem()
    {
        if (NumTrainTimesteps < 2)
        {
            return ("num_train_timesteps", $"must be at least 2, got {NumTrainTimesteps}");
        }

        if (TrainedBetas is { } trained)
        {
            if (trained.Count != NumTrainTimesteps)
            {
                return ("trained_betas", $"has {trained.Count} values but num_train_timesteps is {NumTrainTimesteps}");
            }

            for (var i = 0; i < trained.Count; i++)
            {
                if (!(trained[i] > 0 && trained[i] <= 1))
                {
                    return ("trained_betas", $"value {i} is {Format(trained[i])}; every beta must lie in (0, 1]");
                }
            }
        }
        else if (BetaSchedule != BetaSchedule.SquaredCosCapV2)
        {
            if (!(BetaStart > 0 && BetaStart < 1))
            {
                return ("beta_start", $"must lie in (0, 1), got {Format(BetaStart)}");
            }

            if (!(BetaEnd > 0 && BetaEnd < 1))
            {
                return ("beta_end", $"must lie in (0, 1), got {Format(BetaEnd)}");
            }
        }

        if (!Enum.IsDefined(BetaSchedule))
        {
            return ("beta_schedule", $"has an unknown value {(int)BetaSchedule}");
        }

        if (!Enum.IsDefined(PredictionType))
        {
            return ("prediction_type", $"has an unknown value {(int)PredictionType}");
        }

        if (TimestepSpacing is { } spacing && !Enum.IsDefined(spacing))
        {
            return ("timestep_spacing", $"has an unknown value {(int)spacing}");
        }

        if (StepsOffset < 0 || StepsOffset >= NumTrainTimesteps)
        {
            return ("steps_offset", $"must lie in [0, num_train_timesteps), got {StepsOffset}");
        }

        if (!(ClipSampleRange > 0) || double.IsInfinity(ClipSampleRange))
        {
            return ("clip_sample_range", $"must be a positive finite number, got {Format(ClipSampleRange)}");
        }

        return null;
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Typed access to the fields of one JSON object, with errors that name the source and field.</summary>
    private readonly struct FieldReader(JsonElement element, string sourceName)
    {
        public CheckpointFormatException Error(string field, string message) => new(sourceName, $"field '{field}' {message}.");

        public int? Int(string field)
        {
            if (!TryGet(field, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var result))
            {
                throw Error(field, $"must be an integer, found {Describe(value)}");
            }

            return result;
        }

        public double? Double(string field)
        {
            if (!TryGet(field, out var value))
            {
                return null;
            }

            return ToDouble(field, value);
        }

        public bool? Bool(string field)
        {
            if (!TryGet(field, out var value))
            {
                return null;
            }

            return value.ValueKind switch
            {
                JsonValueKind.True => true,
                JsonValueKind.False => false,
                _ => throw Error(field, $"must be true or false, found {Describe(value)}"),
            };
        }

        public string? String(string field)
        {
            if (!TryGet(field, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                throw Error(field, $"must be a string, found {Describe(value)}");
            }

            return value.GetString();
        }

        public T? Choice<T>(string field, (string Name, T Value)[] choices)
            where T : struct
        {
            var text = String(field);
            if (text is null)
            {
                return null;
            }

            foreach (var (name, choice) in choices)
            {
                if (name == text)
                {
                    return choice;
                }
            }

            throw Error(field, $"is '{text}'; supported: {string.Join(", ", choices.Select(c => $"'{c.Name}'"))}");
        }

        public double[]? DoubleArray(string field)
        {
            if (!TryGet(field, out var value))
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Array)
            {
                throw Error(field, $"must be an array of numbers or null, found {Describe(value)}");
            }

            var result = new double[value.GetArrayLength()];
            var i = 0;
            foreach (var item in value.EnumerateArray())
            {
                result[i] = ToDouble($"{field}[{i}]", item);
                i++;
            }

            return result;
        }

        private double ToDouble(string field, JsonElement value)
        {
            // Python's json writes non-finite floats as bare words; the reference configs write them as strings.
            if (value.ValueKind == JsonValueKind.String &&
                double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed))
            {
                return parsed;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var result))
            {
                throw Error(field, $"must be a number, found {Describe(value)}");
            }

            return result;
        }

        /// <summary>The field's value; absent and JSON null both count as "not set".</summary>
        private bool TryGet(string field, out JsonElement value) =>
            element.TryGetProperty(field, out value) && value.ValueKind != JsonValueKind.Null;

        private static string Describe(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.String => $"the string \"{value.GetString()}\"",
            JsonValueKind.Number => $"the number {value.GetRawText()}",
            _ => value.ValueKind.ToString().ToLowerInvariant(),
        };
    }
}
