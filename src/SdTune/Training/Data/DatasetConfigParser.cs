using System.Globalization;
using SdTune.Options;
using Tomlyn;
using Tomlyn.Model;

namespace SdTune.Training.Data;

/// <summary>Reads kohya's dataset TOML into <see cref="DatasetConfig"/>, validating every key where it is written.</summary>
internal static class DatasetConfigParser
{
    [Flags]
    private enum Levels
    {
        General = 1,
        Dataset = 2,
        Subset = 4,
        DatasetLevels = General | Dataset,
        All = General | Dataset | Subset,
    }

    private enum Kind
    {
        Int,
        Number,
        Bool,
        String,
        Resolution,
        NumberPair,
        Table,
        Interpolation,
    }

    /// <summary>A key, where it may be written, its type and, for numbers, the range it accepts.</summary>
    private sealed record KeySpec(string Name, Levels Levels, Kind Kind, NumericRange? Range = null);

    private static readonly NumericRange NotNegative = new(NumberType.Int32, 0, int.MaxValue);

    /// <summary>num_repeats: up to 10,000 (sd-scripts runs use 1 to 100), so image counts with repeats cannot overflow.</summary>
    internal static readonly NumericRange Repeats = new(NumberType.Int32, 0, 10_000);

    private static readonly KeySpec[] Keys =
    [
        // Dataset-only keys ([general] or [[datasets]]).
        new("batch_size", Levels.DatasetLevels, Kind.Int, TrainingConfigKeys.BatchCount),
        new("resolution", Levels.DatasetLevels, Kind.Resolution, TrainingConfigKeys.ResolutionSide),
        new("enable_bucket", Levels.DatasetLevels, Kind.Bool),
        new("min_bucket_reso", Levels.DatasetLevels, Kind.Int, TrainingConfigKeys.ResolutionSide),
        new("max_bucket_reso", Levels.DatasetLevels, Kind.Int, TrainingConfigKeys.ResolutionSide),
        new("bucket_reso_steps", Levels.DatasetLevels, Kind.Int, NumericRange.Count(8192)),
        new("bucket_no_upscale", Levels.DatasetLevels, Kind.Bool),
        new("network_multiplier", Levels.DatasetLevels, Kind.Number, NumericRange.AnyFloat32),
        new("validation_seed", Levels.DatasetLevels, Kind.Int),
        new("validation_split", Levels.DatasetLevels, Kind.Number, NumericRange.DropoutRate),

        // Keys valid at any level (a subset value overrides the dataset's, which overrides [general]).
        new("num_repeats", Levels.All, Kind.Int, Repeats),
        new("shuffle_caption", Levels.All, Kind.Bool),
        new("caption_separator", Levels.All, Kind.String),
        new("keep_tokens", Levels.All, Kind.Int, NotNegative),
        new("keep_tokens_separator", Levels.All, Kind.String),
        new("secondary_separator", Levels.All, Kind.String),
        new("enable_wildcard", Levels.All, Kind.Bool),
        new("color_aug", Levels.All, Kind.Bool),
        new("flip_aug", Levels.All, Kind.Bool),
        new("face_crop_aug_range", Levels.All, Kind.NumberPair),
        new("random_crop", Levels.All, Kind.Bool),
        new("caption_prefix", Levels.All, Kind.String),
        new("caption_suffix", Levels.All, Kind.String),
        new("token_warmup_min", Levels.All, Kind.Int, NotNegative),
        new("token_warmup_step", Levels.All, Kind.Number, new NumericRange(NumberType.Float64, 0, double.MaxValue)),
        new("resize_interpolation", Levels.All, Kind.Interpolation),
        new("custom_attributes", Levels.All, Kind.Table),
        new("caption_dropout_rate", Levels.All, Kind.Number, NumericRange.Probability),
        new("caption_dropout_every_n_epochs", Levels.All, Kind.Int, NotNegative),
        new("caption_tag_dropout_rate", Levels.All, Kind.Number, NumericRange.Probability),
        new("caption_extension", Levels.All, Kind.String),
        new("class_tokens", Levels.All, Kind.String),
        new("cache_info", Levels.All, Kind.Bool),
        new("alpha_mask", Levels.All, Kind.Bool),

        // Subset-only keys.
        new("image_dir", Levels.Subset, Kind.String),
        new("is_reg", Levels.Subset, Kind.Bool),
        new("metadata_file", Levels.Subset, Kind.String),
        new("conditioning_data_dir", Levels.Subset, Kind.String),

        // Trainer options that sd-scripts also reads from [general].
        new("prior_loss_weight", Levels.General, Kind.Number, NumericRange.NonNegativeFloat32),
        new("max_token_length", Levels.General, Kind.Int, new NumericRange(NumberType.Int32, 75, 225, MultipleOf: 75)),
        new("debug_dataset", Levels.General, Kind.Bool),
    ];

    private static readonly Dictionary<string, KeySpec> KeysByName = Keys.ToDictionary(k => k.Name, StringComparer.Ordinal);

    private static readonly Dictionary<string, ResizeInterpolation> Interpolations = new(StringComparer.Ordinal)
    {
        ["lanczos"] = ResizeInterpolation.Lanczos,
        ["nearest"] = ResizeInterpolation.Nearest,
        ["bilinear"] = ResizeInterpolation.Bilinear,
        ["linear"] = ResizeInterpolation.Bilinear,
        ["bicubic"] = ResizeInterpolation.Bicubic,
        ["cubic"] = ResizeInterpolation.Bicubic,
        ["area"] = ResizeInterpolation.Area,
        ["box"] = ResizeInterpolation.Box,
    };

    /// <summary>One table's validated values, with the level name used in messages.</summary>
    private sealed class LevelValues(string level, Dictionary<string, object> values)
    {
        public string Level { get; } = level;

        public Dictionary<string, object> Values { get; } = values;
    }

    public static DatasetConfig Parse(string toml, string source, string? baseDirectory, DatasetFallbacks? fallbacks = null)
    {
        ArgumentNullException.ThrowIfNull(toml);
        ArgumentNullException.ThrowIfNull(source);
        TomlTable root;
        try
        {
            root = TomlSerializer.Deserialize<TomlTable>(toml, new TomlSerializerOptions { SourceName = source })
                ?? throw new DatasetConfigException($"{source}: the dataset configuration is empty.");
        }
        catch (TomlException e)
        {
            throw new DatasetConfigException($"{source}: invalid TOML: {e.Message}", e);
        }

        foreach (var key in root.Keys)
        {
            if (key is not ("general" or "datasets"))
            {
                throw new DatasetConfigException(
                    $"{source}: unknown top-level key '{key}'; valid keys: [general], [[datasets]].");
            }
        }

        var general = new LevelValues("[general]", new Dictionary<string, object>(StringComparer.Ordinal));
        if (root.TryGetValue("general", out var generalObject))
        {
            if (generalObject is not TomlTable generalTable)
            {
                throw new DatasetConfigException($"{source}: 'general' must be a table ([general]).");
            }

            general = ReadLevel(generalTable, Levels.General, "[general]", source);
        }

        var datasetTables = root.TryGetValue("datasets", out var datasetsObject)
            ? TablesOf(datasetsObject, "datasets", "top level", source)
            : [];
        if (datasetTables.Count == 0)
        {
            throw new DatasetConfigException($"{source}: no [[datasets]] block; add at least one with its [[datasets.subsets]].");
        }

        var fallback = FallbackLevel(fallbacks);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var datasets = new List<DatasetOptions>(datasetTables.Count);
        for (var d = 0; d < datasetTables.Count; d++)
        {
            datasets.Add(ReadDataset(datasetTables[d], d, general, fallback, used, source, baseDirectory));
        }

        return new DatasetConfig
        {
            Source = source,
            Datasets = datasets,
            FallbacksUsed = used,
            PriorLossWeight = Get(general.Values, "prior_loss_weight", 1.0),
            MaxTokenLength = general.Values.TryGetValue("max_token_length", out var mtl) ? (int)mtl : null,
            DebugDataset = Get(general.Values, "debug_dataset", false),
        };
    }

    /// <summary>The training configuration's values as the last level of every chain, as sd-scripts reads its arguments.</summary>
    private static LevelValues FallbackLevel(DatasetFallbacks? fallbacks)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        if (fallbacks?.Resolution is { } resolution)
        {
            values["resolution"] = resolution;
        }

        if (fallbacks?.BatchSize is { } batchSize)
        {
            values["batch_size"] = batchSize;
        }

        if (fallbacks?.CaptionExtension is { } extension)
        {
            values["caption_extension"] = extension;
        }

        return new LevelValues(DatasetFallbacks.Level, values);
    }

    private static DatasetOptions ReadDataset(TomlTable table, int index, LevelValues general, LevelValues fallback, HashSet<string> used, string source, string? baseDirectory)
    {
        var level = $"[[datasets]] #{index + 1}";
        var subsetTables = table.TryGetValue("subsets", out var subsetsObject)
            ? TablesOf(subsetsObject, "subsets", level, source)
            : [];
        var dataset = ReadLevel(table, Levels.Dataset, level, source);
        if (subsetTables.Count == 0)
        {
            throw new DatasetConfigException($"{source}: {level} has no [[datasets.subsets]]; each dataset needs at least one subset.");
        }

        var subsets = new List<LevelValues>(subsetTables.Count);
        for (var s = 0; s < subsetTables.Count; s++)
        {
            subsets.Add(ReadLevel(subsetTables[s], Levels.Subset, $"[[datasets.subsets]] #{index + 1}.{s + 1}", source));
        }

        var fineTune = subsets.Count(s => s.Values.ContainsKey("metadata_file"));
        if (fineTune > 0 && fineTune < subsets.Count)
        {
            throw new DatasetConfigException(
                $"{source}: {level} mixes DreamBooth subsets (image_dir) and fine-tune subsets (metadata_file); put them in separate [[datasets]] blocks.");
        }

        var chain = new[] { dataset, general, fallback };
        var options = new DatasetOptions
        {
            BatchSize = Resolve(chain, "batch_size", 1, out var batchLevel),
            Resolution = ResolveValue<PixelSize>(chain, "resolution", out var resolutionLevel),
            EnableBucket = Resolve(chain, "enable_bucket", false, out _),
            MinBucketReso = Resolve(chain, "min_bucket_reso", 256, out var minLevel),
            MaxBucketReso = Resolve(chain, "max_bucket_reso", 1024, out var maxLevel),
            BucketResoSteps = Resolve(chain, "bucket_reso_steps", 64, out var stepsLevel),
            BucketNoUpscale = Resolve(chain, "bucket_no_upscale", false, out _),
            NetworkMultiplier = Resolve(chain, "network_multiplier", 1.0, out _),
            ValidationSeed = ResolveValue<int>(chain, "validation_seed", out _),
            ValidationSplit = Resolve(chain, "validation_split", 0.0, out _),
            Subsets = subsets.Select(s => ReadSubset(s, dataset, general, fallback, used, source, baseDirectory)).ToList(),
        };
        Used(used, "batch_size", batchLevel);
        Used(used, "resolution", resolutionLevel);

        if (options.Resolution is not { } resolution)
        {
            throw new DatasetConfigException($"{source}: {level}: key 'resolution' is required (an int or [width, height], in [[datasets]] or [general], or resolution in the training configuration).");
        }

        if (options.EnableBucket)
        {
            var steps = options.BucketResoSteps;
            Require(options.MaxBucketReso >= options.MinBucketReso, source, maxLevel, "max_bucket_reso", $"({options.MaxBucketReso}) must be at least min_bucket_reso ({options.MinBucketReso})");
            if (!options.BucketNoUpscale)
            {
                Require(options.MinBucketReso % steps == 0, source, stepsLevel, "bucket_reso_steps", $"{steps} does not divide min_bucket_reso {options.MinBucketReso}");
                Require(options.MaxBucketReso % steps == 0, source, stepsLevel, "bucket_reso_steps", $"{steps} does not divide max_bucket_reso {options.MaxBucketReso}");
                Require(Math.Min(resolution.Width, resolution.Height) >= options.MinBucketReso, source, minLevel, "min_bucket_reso", $"({options.MinBucketReso}) must not exceed the smaller side of resolution {resolution}");
                Require(Math.Max(resolution.Width, resolution.Height) <= options.MaxBucketReso, source, maxLevel, "max_bucket_reso", $"({options.MaxBucketReso}) must not be below the larger side of resolution {resolution}");
            }
        }

        return options;
    }

    private static SubsetOptions ReadSubset(LevelValues subset, LevelValues dataset, LevelValues general, LevelValues fallback, HashSet<string> used, string source, string? baseDirectory)
    {
        var chain = new[] { subset, dataset, general, fallback };
        var metadata = ResolveNullable<string>(chain, "metadata_file", out _);
        var imageDir = ResolveNullable<string>(chain, "image_dir", out _);
        if (metadata is null && imageDir is null)
        {
            throw new DatasetConfigException($"{source}: {subset.Level}: key 'image_dir' is required for a DreamBooth subset (or give 'metadata_file' for a fine-tune subset).");
        }

        var extension = Resolve(chain, "caption_extension", ".caption", out var extensionLevel);
        Used(used, "caption_extension", extensionLevel);
        if (extension.Length > 0 && extension[0] != '.')
        {
            extension = "." + extension;
        }

        var options = new SubsetOptions
        {
            ImageDirectory = imageDir is null ? null : ResolvePath(imageDir, baseDirectory),
            MetadataFile = metadata is null ? null : ResolvePath(metadata, baseDirectory),
            ConditioningDirectory = ResolveNullable<string>(chain, "conditioning_data_dir", out _) is { } conditioning ? ResolvePath(conditioning, baseDirectory) : null,
            NumRepeats = Resolve(chain, "num_repeats", 1, out _),
            ShuffleCaption = Resolve(chain, "shuffle_caption", false, out _),
            CaptionSeparator = Resolve(chain, "caption_separator", ",", out var separatorLevel),
            KeepTokens = Resolve(chain, "keep_tokens", 0, out _),
            KeepTokensSeparator = NullIfEmpty(ResolveNullable<string>(chain, "keep_tokens_separator", out _)),
            SecondarySeparator = NullIfEmpty(ResolveNullable<string>(chain, "secondary_separator", out _)),
            EnableWildcard = Resolve(chain, "enable_wildcard", false, out _),
            ColorAug = Resolve(chain, "color_aug", false, out _),
            FlipAug = Resolve(chain, "flip_aug", false, out _),
            FaceCropAugRange = chain.FirstOrDefault(l => l.Values.ContainsKey("face_crop_aug_range"))?.Values["face_crop_aug_range"] is (double lo, double hi) ? (lo, hi) : null,
            RandomCrop = Resolve(chain, "random_crop", false, out _),
            CaptionPrefix = NullIfEmpty(ResolveNullable<string>(chain, "caption_prefix", out _)),
            CaptionSuffix = NullIfEmpty(ResolveNullable<string>(chain, "caption_suffix", out _)),
            TokenWarmupMin = Resolve(chain, "token_warmup_min", 1, out _),
            TokenWarmupStep = Resolve(chain, "token_warmup_step", 0.0, out _),
            CaptionDropoutRate = Resolve(chain, "caption_dropout_rate", 0.0, out _),
            CaptionDropoutEveryNEpochs = Resolve(chain, "caption_dropout_every_n_epochs", 0, out _),
            CaptionTagDropoutRate = Resolve(chain, "caption_tag_dropout_rate", 0.0, out _),
            CaptionExtension = extension,
            ClassTokens = ResolveNullable<string>(chain, "class_tokens", out _),
            CacheInfo = Resolve(chain, "cache_info", false, out _),
            IsReg = Resolve(chain, "is_reg", false, out _),
            AlphaMask = Resolve(chain, "alpha_mask", false, out _),
            ResizeInterpolation = ResolveValue<ResizeInterpolation>(chain, "resize_interpolation", out _),
            CustomAttributes = ResolveNullable<IReadOnlyDictionary<string, object>>(chain, "custom_attributes", out _) ?? new Dictionary<string, object>(),
        };

        Require(options.CaptionSeparator.Length > 0, source, separatorLevel, "caption_separator", "must not be empty");
        if (options.FaceCropAugRange is { } range && range.Low > range.High)
        {
            throw new DatasetConfigException($"{source}: {subset.Level}: key 'face_crop_aug_range' must be [low, high] with low <= high, got [{range.Low}, {range.High}].");
        }

        return options;
    }

    private static void Used(HashSet<string> used, string key, string level)
    {
        if (level == DatasetFallbacks.Level)
        {
            used.Add(key);
        }
    }

    private static string ResolvePath(string path, string? baseDirectory) =>
        baseDirectory is null || Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(baseDirectory, path));

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static void Require(bool condition, string source, string level, string key, string problem)
    {
        if (!condition)
        {
            throw new DatasetConfigException($"{source}: {level}: key '{key}' {problem}.");
        }
    }

    private static T Get<T>(Dictionary<string, object> values, string key, T fallback) =>
        values.TryGetValue(key, out var v) ? (T)v : fallback;

    private static T Resolve<T>(LevelValues[] chain, string key, T fallback, out string level)
        where T : notnull
    {
        foreach (var l in chain)
        {
            if (l.Values.TryGetValue(key, out var v))
            {
                level = l.Level;
                return (T)v;
            }
        }

        level = "default";
        return fallback;
    }

    private static T? ResolveValue<T>(LevelValues[] chain, string key, out string level)
        where T : struct
    {
        foreach (var l in chain)
        {
            if (l.Values.TryGetValue(key, out var v))
            {
                level = l.Level;
                return (T)v;
            }
        }

        level = "default";
        return null;
    }

    private static T? ResolveNullable<T>(LevelValues[] chain, string key, out string level)
        where T : class
    {
        foreach (var l in chain)
        {
            if (l.Values.TryGetValue(key, out var v))
            {
                level = l.Level;
                return (T)v;
            }
        }

        level = "default";
        return default;
    }

    private static List<TomlTable> TablesOf(object value, string key, string level, string source)
    {
        switch (value)
        {
            case TomlTableArray tables:
                return [.. tables];
            case TomlArray array when array.All(x => x is TomlTable):
                return [.. array.Cast<TomlTable>()];
            default:
                throw new DatasetConfigException($"{source}: {level}: key '{key}' must be an array of tables ([[{(key == "subsets" ? "datasets.subsets" : key)}]]), got {Describe(value)}.");
        }
    }

    private static LevelValues ReadLevel(TomlTable table, Levels levelKind, string level, string source)
    {
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (var (key, raw) in table)
        {
            if (key == "subsets" && levelKind == Levels.Dataset)
            {
                continue;
            }

            if (!KeysByName.TryGetValue(key, out var spec) || (spec.Levels & levelKind) == 0)
            {
                var valid = Keys.Where(k => (k.Levels & levelKind) != 0).Select(k => k.Name);
                if (levelKind == Levels.Dataset)
                {
                    valid = valid.Append("subsets");
                }

                var where = spec is null ? "unknown key" : "key not allowed at this level";
                throw new DatasetConfigException(
                    $"{source}: {level}: {where} '{key}'; valid keys here: {string.Join(", ", valid.Order(StringComparer.Ordinal))}.");
            }

            values[key] = Convert(spec, raw, level, source);
        }

        return new LevelValues(level, values);
    }

    private static object Convert(KeySpec spec, object raw, string level, string source)
    {
        var value = ConvertType(spec, raw, level, source);
        var numbers = value switch
        {
            int i => [i],
            double d => [d],
            PixelSize size => new double[] { size.Width, size.Height },
            _ => [],
        };
        foreach (var number in numbers)
        {
            if (spec.Range?.Problem(number) is { } problem)
            {
                throw new DatasetConfigException($"{source}: {level}: key '{spec.Name}': {problem}");
            }
        }

        return value;
    }

    private static object ConvertType(KeySpec spec, object raw, string level, string source)
    {
        DatasetConfigException Wrong(string expected) =>
            new($"{source}: {level}: key '{spec.Name}' must be {expected}, got {Describe(raw)}.");

        switch (spec.Kind)
        {
            case Kind.Int:
                return raw is long l && l is >= int.MinValue and <= int.MaxValue ? (int)l : throw Wrong("an integer");
            case Kind.Number:
                return raw switch
                {
                    long n => (double)n,
                    double d => d,
                    _ => throw Wrong("a number"),
                };
            case Kind.Bool:
                return raw is bool b ? b : throw Wrong("true or false");
            case Kind.String:
                return raw is string s ? s : throw Wrong("a string");
            case Kind.Interpolation:
                return raw is string name && Interpolations.TryGetValue(name, out var mode)
                    ? mode
                    : throw Wrong($"one of {string.Join(", ", Interpolations.Keys)}");
            case Kind.Table:
                return raw is TomlTable t ? t.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal) as IReadOnlyDictionary<string, object> : throw Wrong("a table");
            case Kind.Resolution:
                if (raw is long side)
                {
                    return side is > 0 and <= int.MaxValue ? new PixelSize((int)side, (int)side) : throw Wrong("a positive integer or [width, height]");
                }

                if (raw is TomlArray { Count: 2 } wh && wh[0] is long w && wh[1] is long h && w is > 0 and <= int.MaxValue && h is > 0 and <= int.MaxValue)
                {
                    return new PixelSize((int)w, (int)h);
                }

                throw Wrong("a positive integer or [width, height]");
            case Kind.NumberPair:
                if (raw is TomlArray { Count: 2 } pair && ToDouble(pair[0]) is { } a && ToDouble(pair[1]) is { } b2)
                {
                    return (a, b2);
                }

                throw Wrong("[low, high] (two numbers)");
            default:
                throw new InvalidOperationException(spec.Kind.ToString());
        }
    }

    private static double? ToDouble(object? value) => value switch
    {
        long l => l,
        double d => d,
        _ => null,
    };

    private static string Describe(object? value) => value switch
    {
        null => "nothing",
        string s => $"the string \"{s}\"",
        long l => "the integer " + l.ToString(CultureInfo.InvariantCulture),
        double d => "the number " + d.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        TomlArray a => $"an array of {a.Count}",
        TomlTableArray => "an array of tables",
        TomlTable => "a table",
        _ => value.GetType().Name,
    };
}
