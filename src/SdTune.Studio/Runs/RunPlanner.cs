using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SdTune.Training;

namespace SdTune.Studio.Runs;

/// <summary>
/// Turns a run request (<c>POST /api/runs</c>) into a validated training configuration and creates its run folder. The
/// training keys are applied exactly as <c>sdtune train &lt;method&gt; key=value ...</c> applies its overrides and
/// validated by the same <see cref="TrainingConfig.Validate"/>, so a mistake gets the CLI's message, naming the key.
/// </summary>
public sealed class RunPlanner(RunStore store)
{
    /// <summary>The request's fields.</summary>
    public static readonly IReadOnlyList<string> Fields = ["method", "keys", "dataset", "base_model", "sample_prompt_lines"];

    /// <summary>Keys the studio sets itself (from <c>dataset</c>, <c>base_model</c> and the run folder).</summary>
    private static readonly Dictionary<string, string> OwnKeys = new(StringComparer.Ordinal)
    {
        ["method"] = "is the request's \"method\" field.",
        ["pretrained_model"] = "is set by the studio from \"base_model\".",
        ["train_data_dir"] = "is set by the studio from \"dataset\".",
        ["output_dir"] = "is set by the studio (the run folder).",
        ["resume"] = "is set by the studio (a run resumes from its own saved state).",
    };

    /// <summary>The <c>output_dir</c> of a configuration to download (relative: next to the file).</summary>
    private const string OutputFolderOfToml = "output";

    /// <summary>The file a run's <c>sample_prompt_lines</c> are written to, in the run folder.</summary>
    public const string SamplePromptsFile = "sample_prompts.txt";

    /// <summary>Validates <paramref name="body"/>, creates the run folder with its configuration and a queued status, and returns that status.</summary>
    /// <exception cref="StudioRequestException">The request is malformed, names a path outside the studio's folders, or sets a key wrongly (the message is the CLI's).</exception>
    public RunStatus Create(JsonNode? body)
    {
        var id = RunStore.NewId();
        var folder = store.Folder(id);
        var plan = Plan(body, store.OutputPath(id), Path.Combine(folder, SamplePromptsFile), requireDataset: true);

        Directory.CreateDirectory(folder);
        if (plan.SamplePromptLines is { } lines)
        {
            File.WriteAllText(Path.Combine(folder, SamplePromptsFile), lines);
        }

        File.WriteAllText(store.ConfigPath(id), WithRelativePaths(plan.Config, folder).ToToml());
        var status = new RunStatus
        {
            Id = id,
            State = RunState.Queued,
            Method = plan.Config.Method,
            BaseModel = plan.BaseModel,
            Dataset = plan.Dataset!,
            CreatedAt = DateTimeOffset.UtcNow,
        };
        store.Write(status);
        return status;
    }

    /// <summary>
    /// <c>POST /api/config/toml</c>: the request's configuration as the TOML <c>sdtune train --config</c> reads, built and
    /// checked as <see cref="Create"/> does (without <c>dataset</c> it is not validated as a whole, only key by key). Its
    /// <c>output_dir</c> is <c>output</c>, which the CLI reads next to the configuration file.
    /// </summary>
    /// <exception cref="StudioRequestException">As for <see cref="Create"/>.</exception>
    public string Toml(JsonNode? body)
    {
        var plan = Plan(body, outputDir: OutputFolderOfToml, samplePromptsPath: null, requireDataset: false);
        return plan.Config.ToToml();
    }

    private sealed record RunPlan(TrainingConfig Config, string BaseModel, string? Dataset, string? SamplePromptLines);

    private RunPlan Plan(JsonNode? body, string outputDir, string? samplePromptsPath, bool requireDataset)
    {
        if (body is not JsonObject request)
        {
            throw new StudioRequestException("body", "expected a JSON object with " + string.Join(", ", Fields) + ".");
        }

        if (request.Select(p => p.Key).FirstOrDefault(k => !Fields.Contains(k)) is { } unknown)
        {
            throw new StudioRequestException(unknown, "unknown field; expected " + string.Join(", ", Fields) + ".");
        }

        var method = Text(request, "method") ?? throw new StudioRequestException("method", "is required.");
        var dataset = Text(request, "dataset");
        if (dataset is null && requireDataset)
        {
            // A run needs its dataset; a configuration to download may leave it out.
            throw new StudioRequestException("dataset", "is required (a folder under datasets/).");
        }
        var baseModel = Text(request, "base_model") ?? StudioHome.ToyModelName;
        var samplePromptLines = Text(request, "sample_prompt_lines");
        var keys = request["keys"] switch
        {
            null => [],
            JsonObject o => o,
            _ => throw new StudioRequestException("keys", "expected a JSON object of training key → value."),
        };

        var home = store.Home;
        string? datasetPath = null;
        if (dataset is not null)
        {
            datasetPath = home.Confine(home.Datasets, dataset, "dataset");
            if (!Directory.Exists(datasetPath))
            {
                throw new StudioRequestException("dataset", $"no folder \"{dataset}\" in the datasets folder.");
            }
        }

        var modelPath = home.Model(baseModel);
        var overrides = new List<string> { $"method={method}" };
        foreach (var (name, value) in keys)
        {
            var key = name.Replace('-', '_');
            if (OwnKeys.TryGetValue(key, out var why) || (samplePromptLines is not null && key == "sample_prompts" && (why = "is set by the studio from \"sample_prompt_lines\".") is not null))
            {
                throw new StudioRequestException(key, why);
            }

            overrides.Add($"{name}={OverrideValue(key, value)}");
        }

        var config = Apply(TrainingConfig.Parse("", "command line"), overrides);
        config = config with { PretrainedModel = modelPath, TrainDataDir = datasetPath };
        if (!keys.ContainsKey("save_state"))
        {
            // A run keeps resumable states by default, so a stopped or interrupted run continues where it was.
            config = config with { SaveState = true };
        }

        if (samplePromptLines is not null)
        {
            try
            {
                SamplePromptFile.Parse(samplePromptLines, "sample_prompt_lines");
            }
            catch (TrainingConfigException e)
            {
                throw new StudioRequestException("sample_prompt_lines", e.Message, e);
            }

            config = config with { SamplePrompts = samplePromptsPath ?? SamplePromptsFile };
        }

        config = config with { OutputDir = outputDir };

        if (datasetPath is not null)
        {
            Validate(config);
        }

        return new RunPlan(config, baseModel, datasetPath is null ? null : Path.GetRelativePath(home.Datasets, datasetPath).Replace('\\', '/'), samplePromptLines);
    }

    /// <summary>
    /// Writes paths under the studio's folder relative to the run folder (a configuration file's relative paths are read
    /// against its folder), so a worker that sees the studio's folder under another path reads the same files.
    /// </summary>
    private TrainingConfig WithRelativePaths(TrainingConfig config, string folder)
    {
        foreach (var key in TrainingConfigKeys.All.Where(k => k.IsPath && k.Name != "pretrained_model"))
        {
            if (key.Get(config) is string path && Path.IsPathRooted(path) && path.StartsWith(store.Home.Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                config = key.Set(config, Path.GetRelativePath(folder, path).Replace('\\', '/'));
            }
        }

        return config;
    }

    private static TrainingConfig Apply(TrainingConfig config, IEnumerable<string> overrides)
    {
        try
        {
            return config.WithOverrides(overrides);
        }
        catch (TrainingConfigException e)
        {
            throw new StudioRequestException(e.Key, e.Message, e);
        }
    }

    private static void Validate(TrainingConfig config)
    {
        try
        {
            config.Validate();
        }
        catch (TrainingConfigException e)
        {
            throw new StudioRequestException(e.Key, e.Message, e);
        }
    }

    /// <summary>A JSON value as the value part of a <c>key=value</c> override (a TOML value), paths confined to the studio's folders.</summary>
    private string OverrideValue(string key, JsonNode? value)
    {
        if (value is JsonValue scalar && scalar.GetValueKind() == JsonValueKind.String && TrainingConfigKeys.ByName.TryGetValue(key, out var declared) && declared.IsPath)
        {
            var text = scalar.GetValue<string>();
            return text.Length == 0 ? "" : Toml(store.Home.Confine(store.Home.Datasets, text, key));
        }

        return value switch
        {
            null => "",
            JsonArray array => "[" + string.Join(", ", array.Select(item => item is JsonArray or JsonObject or null
                ? throw new StudioRequestException(key, "expected an array of strings, numbers or booleans.")
                : Scalar((JsonValue)item))) + "]",
            JsonObject => throw new StudioRequestException(key, "expected a value, got a JSON object."),
            JsonValue v => Scalar(v),
            _ => throw new StudioRequestException(key, "expected a value."),
        };
    }

    private static string Scalar(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.String => Toml(value.GetValue<string>()),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        // A JSON number is a TOML number as written.
        _ => value.ToJsonString(),
    };

    /// <summary>A TOML basic string.</summary>
    private static string Toml(string text)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in text)
        {
            builder.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"),
                _ => c.ToString(),
            });
        }

        return builder.Append('"').ToString();
    }

    private static string? Text(JsonObject request, string field) => request[field] switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new StudioRequestException(field, "expected a string."),
    };
}
