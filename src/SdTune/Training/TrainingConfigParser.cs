using System.Globalization;
using System.Text;
using SdTune.Training.Data;
using Tomlyn;
using Tomlyn.Model;

namespace SdTune.Training;

/// <summary>The TOML key table of <see cref="TrainingConfig"/>: reading, overrides and writing share it.</summary>
internal static class TrainingConfigParser
{
    private enum Kind
    {
        Text,
        Integer,
        Long,
        Real,
        Flag,
        TextList,
        Precision,
    }

    private sealed record Key(string Name, Kind Kind, bool Nullable, bool IsPath, Func<TrainingConfig, object?> Get, Func<TrainingConfig, object?, TrainingConfig> Set);

    private static readonly Key[] Keys =
    [
        new("method", Kind.Text, false, false, c => c.Method, (c, v) => c with { Method = (string)v! }),
        new("pretrained_model", Kind.Text, true, true, c => c.PretrainedModel, (c, v) => c with { PretrainedModel = (string?)v }),
        new("output_dir", Kind.Text, true, true, c => c.OutputDir, (c, v) => c with { OutputDir = (string?)v }),
        new("output_name", Kind.Text, false, false, c => c.OutputName, (c, v) => c with { OutputName = (string)v! }),
        new("dataset_config", Kind.Text, true, true, c => c.DatasetConfig, (c, v) => c with { DatasetConfig = (string?)v }),
        new("train_data_dir", Kind.Text, true, true, c => c.TrainDataDir, (c, v) => c with { TrainDataDir = (string?)v }),
        new("reg_data_dir", Kind.Text, true, true, c => c.RegDataDir, (c, v) => c with { RegDataDir = (string?)v }),
        new("instance_data_dir", Kind.Text, true, true, c => c.InstanceDataDir, (c, v) => c with { InstanceDataDir = (string?)v }),
        new("instance_prompt", Kind.Text, true, false, c => c.InstancePrompt, (c, v) => c with { InstancePrompt = (string?)v }),
        new("class_data_dir", Kind.Text, true, true, c => c.ClassDataDir, (c, v) => c with { ClassDataDir = (string?)v }),
        new("class_prompt", Kind.Text, true, false, c => c.ClassPrompt, (c, v) => c with { ClassPrompt = (string?)v }),
        new("with_prior_preservation", Kind.Flag, false, false, c => c.WithPriorPreservation, (c, v) => c with { WithPriorPreservation = (bool)v! }),
        new("num_class_images", Kind.Integer, false, false, c => c.NumClassImages, (c, v) => c with { NumClassImages = (int)v! }),
        new("resolution", Kind.Text, false, false, c => c.Resolution, (c, v) => c with { Resolution = (string)v! }),
        new("train_batch_size", Kind.Integer, false, false, c => c.TrainBatchSize, (c, v) => c with { TrainBatchSize = (int)v! }),
        new("center_crop", Kind.Flag, false, false, c => c.CenterCrop, (c, v) => c with { CenterCrop = (bool)v! }),
        new("caption_extension", Kind.Text, false, false, c => c.CaptionExtension, (c, v) => c with { CaptionExtension = (string)v! }),
        new("network_dim", Kind.Integer, false, false, c => c.NetworkDim, (c, v) => c with { NetworkDim = (int)v! }),
        new("network_alpha", Kind.Real, false, false, c => c.NetworkAlpha, (c, v) => c with { NetworkAlpha = (double)v! }),
        new("network_dropout", Kind.Real, false, false, c => c.NetworkDropout, (c, v) => c with { NetworkDropout = (double)v! }),
        new("network_args", Kind.TextList, false, false, c => c.NetworkArgs, (c, v) => c with { NetworkArgs = (IReadOnlyList<string>)v! }),
        new("network_weights", Kind.Text, true, true, c => c.NetworkWeights, (c, v) => c with { NetworkWeights = (string?)v }),
        new("network_train_unet_only", Kind.Flag, false, false, c => c.NetworkTrainUnetOnly, (c, v) => c with { NetworkTrainUnetOnly = (bool)v! }),
        new("network_train_text_encoder_only", Kind.Flag, false, false, c => c.NetworkTrainTextEncoderOnly, (c, v) => c with { NetworkTrainTextEncoderOnly = (bool)v! }),
        new("learning_rate", Kind.Real, false, false, c => c.LearningRate, (c, v) => c with { LearningRate = (double)v! }),
        new("unet_lr", Kind.Real, true, false, c => c.UnetLr, (c, v) => c with { UnetLr = (double?)v }),
        new("text_encoder_lr", Kind.Real, true, false, c => c.TextEncoderLr, (c, v) => c with { TextEncoderLr = (double?)v }),
        new("optimizer_type", Kind.Text, false, false, c => c.OptimizerType, (c, v) => c with { OptimizerType = (string)v! }),
        new("optimizer_args", Kind.TextList, false, false, c => c.OptimizerArgs, (c, v) => c with { OptimizerArgs = (IReadOnlyList<string>)v! }),
        new("lr_scheduler", Kind.Text, false, false, c => c.LrScheduler, (c, v) => c with { LrScheduler = (string)v! }),
        new("lr_warmup_steps", Kind.Text, false, false, c => c.LrWarmupSteps, (c, v) => c with { LrWarmupSteps = (string)v! }),
        new("lr_scheduler_num_cycles", Kind.Real, true, false, c => c.LrSchedulerNumCycles, (c, v) => c with { LrSchedulerNumCycles = (double?)v }),
        new("lr_scheduler_power", Kind.Real, false, false, c => c.LrSchedulerPower, (c, v) => c with { LrSchedulerPower = (double)v! }),
        new("max_train_steps", Kind.Integer, true, false, c => c.MaxTrainSteps, (c, v) => c with { MaxTrainSteps = (int?)v }),
        new("max_train_epochs", Kind.Integer, true, false, c => c.MaxTrainEpochs, (c, v) => c with { MaxTrainEpochs = (int?)v }),
        new("gradient_accumulation_steps", Kind.Integer, false, false, c => c.GradientAccumulationSteps, (c, v) => c with { GradientAccumulationSteps = (int)v! }),
        new("max_grad_norm", Kind.Real, false, false, c => c.MaxGradNorm, (c, v) => c with { MaxGradNorm = (double)v! }),
        new("mixed_precision", Kind.Precision, false, false, c => c.MixedPrecision, (c, v) => c with { MixedPrecision = (MixedPrecision)v! }),
        new("save_precision", Kind.Text, true, false, c => c.SavePrecision, (c, v) => c with { SavePrecision = (string?)v }),
        new("seed", Kind.Long, false, false, c => c.Seed, (c, v) => c with { Seed = (long)v! }),
        new("noise_offset", Kind.Real, false, false, c => c.NoiseOffset, (c, v) => c with { NoiseOffset = (double)v! }),
        new("min_snr_gamma", Kind.Real, true, false, c => c.MinSnrGamma, (c, v) => c with { MinSnrGamma = (double?)v }),
        new("v_parameterization", Kind.Flag, true, false, c => c.VParameterization, (c, v) => c with { VParameterization = (bool?)v }),
        new("prior_loss_weight", Kind.Real, false, false, c => c.PriorLossWeight, (c, v) => c with { PriorLossWeight = (double)v! }),
        new("clip_skip", Kind.Integer, true, false, c => c.ClipSkip, (c, v) => c with { ClipSkip = (int?)v }),
        new("save_every_n_steps", Kind.Integer, true, false, c => c.SaveEveryNSteps, (c, v) => c with { SaveEveryNSteps = (int?)v }),
        new("save_every_n_epochs", Kind.Integer, true, false, c => c.SaveEveryNEpochs, (c, v) => c with { SaveEveryNEpochs = (int?)v }),
        new("save_state", Kind.Flag, false, false, c => c.SaveState, (c, v) => c with { SaveState = (bool)v! }),
        new("resume", Kind.Text, true, true, c => c.Resume, (c, v) => c with { Resume = (string?)v }),
        new("sample_every_n_steps", Kind.Integer, true, false, c => c.SampleEveryNSteps, (c, v) => c with { SampleEveryNSteps = (int?)v }),
        new("sample_every_n_epochs", Kind.Integer, true, false, c => c.SampleEveryNEpochs, (c, v) => c with { SampleEveryNEpochs = (int?)v }),
        new("sample_prompts", Kind.Text, true, true, c => c.SamplePrompts, (c, v) => c with { SamplePrompts = (string?)v }),
        new("logging_dir", Kind.Text, true, true, c => c.LoggingDir, (c, v) => c with { LoggingDir = (string?)v }),
        new("cache_latents", Kind.Flag, false, false, c => c.CacheLatents, (c, v) => c with { CacheLatents = (bool)v! }),
        new("cache_text_encoder_outputs", Kind.Flag, false, false, c => c.CacheTextEncoderOutputs, (c, v) => c with { CacheTextEncoderOutputs = (bool)v! }),
        new("cache_latents_to_disk", Kind.Flag, false, false, c => c.CacheLatentsToDisk, (c, v) => c with { CacheLatentsToDisk = (bool)v! }),
        new("gradient_checkpointing", Kind.Flag, false, false, c => c.GradientCheckpointing, (c, v) => c with { GradientCheckpointing = (bool)v! }),
        new("release_freed_memory", Kind.Flag, true, false, c => c.ReleaseFreedMemory, (c, v) => c with { ReleaseFreedMemory = (bool?)v }),
        new("train_text_encoder", Kind.Flag, false, false, c => c.TrainTextEncoder, (c, v) => c with { TrainTextEncoder = (bool)v! }),
        new("stop_text_encoder_training", Kind.Real, true, false, c => c.StopTextEncoderTraining, (c, v) => c with { StopTextEncoderTraining = (double?)v }),
        new("use_ema", Kind.Flag, false, false, c => c.UseEma, (c, v) => c with { UseEma = (bool)v! }),
        new("ema_decay", Kind.Real, false, false, c => c.EmaDecay, (c, v) => c with { EmaDecay = (double)v! }),
        new("save_model_as", Kind.Text, false, false, c => c.SaveModelAs, (c, v) => c with { SaveModelAs = (string)v! }),
    ];

    private static readonly Dictionary<string, Key> ByName = Keys.ToDictionary(k => k.Name, StringComparer.Ordinal);

    public static TrainingConfig Parse(string toml, string source, string? baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(toml);
        TomlTable root;
        try
        {
            root = TomlSerializer.Deserialize<TomlTable>(toml, new TomlSerializerOptions { SourceName = source }) ?? new TomlTable();
        }
        catch (TomlException e)
        {
            throw new TrainingConfigException(source, $"invalid TOML: {e.Message}", e);
        }

        var config = new TrainingConfig();
        foreach (var (name, raw) in root)
        {
            // kohya's config files group keys in tables ([model_arguments], [training_arguments], ...); their keys are flat.
            if (raw is TomlTable table)
            {
                foreach (var (inner, value) in table)
                {
                    config = Set(config, inner, value, baseDirectory);
                }
            }
            else
            {
                config = Set(config, name, raw, baseDirectory);
            }
        }

        return config;
    }

    public static TrainingConfig ApplyOverrides(TrainingConfig config, IEnumerable<string> overrides)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(overrides);
        foreach (var item in overrides)
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new TrainingConfigException(item, "an override must be written key=value.");
            }

            var name = item[..eq].Trim().Replace('-', '_');
            var text = item[(eq + 1)..].Trim();
            config = Set(config, name, ParseOverrideValue(name, text), Directory.GetCurrentDirectory());
        }

        return config;
    }

    public static string Write(TrainingConfig config)
    {
        var sb = new StringBuilder();
        foreach (var key in Keys)
        {
            var value = key.Get(config);
            if (value is null)
            {
                continue;
            }

            sb.Append(key.Name).Append(" = ").Append(Format(key, value)).Append('\n');
        }

        return sb.ToString();
    }

    public static PixelSize ParseResolution(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length is 1 or 2 && parts.All(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0))
        {
            var w = int.Parse(parts[0], CultureInfo.InvariantCulture);
            return new PixelSize(w, parts.Length == 2 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : w);
        }

        throw new TrainingConfigException("resolution", $"'{text}' is not a size; write \"512\" or \"512,768\" (width,height).");
    }

    public static TorchSharp.torch.ScalarType? SaveDType(string? savePrecision) => savePrecision switch
    {
        null => null,
        "float" or "fp32" => TorchSharp.torch.ScalarType.Float32,
        "fp16" => TorchSharp.torch.ScalarType.Float16,
        "bf16" => TorchSharp.torch.ScalarType.BFloat16,
        _ => throw new TrainingConfigException("save_precision", $"\"{savePrecision}\" is not one of float, fp16, bf16."),
    };

    private static object ParseOverrideValue(string name, string text)
    {
        if (text.Length == 0)
        {
            return "";
        }

        // Unquoted text for a string key is the string itself (so "2024-01-01" or "inf" stay names); otherwise the
        // value is read as TOML first (numbers, booleans, quoted strings, arrays) and a bare word is a string.
        if (ByName.TryGetValue(name, out var textKey) && textKey.Kind is Kind.Text or Kind.Precision && text[0] is not ('"' or '\''))
        {
            return text;
        }

        try
        {
            var table = TomlSerializer.Deserialize<TomlTable>($"v = {text}");
            if (table is not null && table.TryGetValue("v", out var parsed))
            {
                return parsed;
            }
        }
        catch (TomlException)
        {
        }

        return ByName.TryGetValue(name, out var key) && key.Kind == Kind.TextList
            ? new TomlArray { text }
            : text;
    }

    private static TrainingConfig Set(TrainingConfig config, string name, object? raw, string? baseDirectory)
    {
        if (!ByName.TryGetValue(name, out var key))
        {
            var near = Keys.Select(k => k.Name).Where(k => k.Contains(name, StringComparison.Ordinal) || name.Contains(k, StringComparison.Ordinal)).ToList();
            throw new TrainingConfigException(name, "unknown key" + (near.Count > 0 ? $"; did you mean {string.Join(" or ", near)}?" : "."));
        }

        var value = Convert(key, raw);
        if (key.IsPath && value is string path && baseDirectory is not null && path.Length > 0)
        {
            value = Path.GetFullPath(Path.Combine(baseDirectory, path));
        }

        return key.Set(config, value);
    }

    private static object? Convert(Key key, object? raw)
    {
        if (raw is null || (key.Nullable && raw is string { Length: 0 } && key.Kind != Kind.Text))
        {
            return key.Nullable ? null : throw Wrong(key, raw);
        }

        switch (key.Kind)
        {
            case Kind.Text:
                return raw switch
                {
                    string text => key.Nullable && text.Length == 0 ? null : text,
                    long or double => System.Convert.ToString(raw, CultureInfo.InvariantCulture),
                    _ => throw Wrong(key, raw),
                };
            case Kind.Integer:
                return raw is long l && l is >= int.MinValue and <= int.MaxValue ? (int)l
                    : raw is string s1 && int.TryParse(s1, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) ? i
                    : throw Wrong(key, raw);
            case Kind.Long:
                return raw is long l2 ? l2
                    : raw is string s2 && long.TryParse(s2, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i2) ? i2
                    : throw Wrong(key, raw);
            case Kind.Real:
                return raw switch
                {
                    double d => d,
                    long l3 => (double)l3,
                    string s3 when double.TryParse(s3, NumberStyles.Float, CultureInfo.InvariantCulture, out var d3) => d3,
                    _ => throw Wrong(key, raw),
                };
            case Kind.Flag:
                return raw switch
                {
                    bool b => b,
                    string s4 when bool.TryParse(s4, out var b4) => b4,
                    _ => throw Wrong(key, raw),
                };
            case Kind.TextList:
                return raw switch
                {
                    TomlArray array when array.All(x => x is string or long or double or bool) =>
                        (IReadOnlyList<string>)[.. array.Select(x => x is string s5 ? s5 : System.Convert.ToString(x, CultureInfo.InvariantCulture)!.ToLowerInvariant())],
                    string s6 => (IReadOnlyList<string>)[.. s6.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
                    _ => throw Wrong(key, raw),
                };
            default:
                return raw switch
                {
                    string p when p is "no" or "fp32" or "float" => MixedPrecision.No,
                    string p when p is "bf16" => MixedPrecision.BFloat16,
                    string p when p is "fp16" => MixedPrecision.Float16,
                    _ => throw new TrainingConfigException(key.Name, $"{Describe(raw)} is not a precision; use \"no\", \"bf16\" or \"fp16\"."),
                };
        }
    }

    private static string Format(Key key, object value) => key.Kind switch
    {
        Kind.Text => Quote((string)value),
        Kind.Flag => (bool)value ? "true" : "false",
        Kind.Real => FormatDouble((double)value),
        Kind.TextList => "[" + string.Join(", ", ((IReadOnlyList<string>)value).Select(Quote)) + "]",
        Kind.Precision => (MixedPrecision)value switch
        {
            MixedPrecision.BFloat16 => "\"bf16\"",
            MixedPrecision.Float16 => "\"fp16\"",
            _ => "\"no\"",
        },
        _ => System.Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };

    private static string FormatDouble(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal) || text.Contains("Infinity", StringComparison.Ordinal) || text == "NaN"
            ? text.Replace("E", "e", StringComparison.Ordinal)
            : text + ".0";
    }

    private static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            _ = c switch
            {
                '"' => sb.Append("\\\""),
                '\\' => sb.Append("\\\\"),
                '\n' => sb.Append("\\n"),
                '\r' => sb.Append("\\r"),
                '\t' => sb.Append("\\t"),
                _ when char.IsControl(c) => sb.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"),
                _ => sb.Append(c),
            };
        }

        return sb.Append('"').ToString();
    }

    private static TrainingConfigException Wrong(Key key, object? raw)
    {
        var expected = key.Kind switch
        {
            Kind.Text => "a string",
            Kind.Integer or Kind.Long => "an integer",
            Kind.Real => "a number",
            Kind.Flag => "true or false",
            Kind.TextList => "an array of strings",
            _ => "a value",
        };
        return new TrainingConfigException(key.Name, $"expected {expected}, got {Describe(raw)}.");
    }

    private static string Describe(object? value) => value switch
    {
        null => "nothing",
        string s => $"the string \"{s}\"",
        bool b => b ? "true" : "false",
        long or double => System.Convert.ToString(value, CultureInfo.InvariantCulture)!,
        TomlArray a => $"an array of {a.Count}",
        TomlTable => "a table",
        _ => value.GetType().Name,
    };
}
