using SdTune.Training;
using SdTune.Training.Methods;
using Tomlyn;
using Tomlyn.Model;

namespace SdTune.ToyWorld;

/// <summary>
/// One row of the concept benchmark as a spec file gives it (<c>[[methods]]</c>): a name, the training method it runs,
/// a description, how many class pictures the base model makes for it (prior preservation), and its settings — the
/// training configuration's own keys (<c>learning_rate</c>, <c>max_train_steps</c>, <c>network_dim</c>, ...), whose
/// string values may use {identifier} and {class}. Tuning a row is editing the spec, not the code.
/// </summary>
/// <param name="Name">The row's name (unique in the spec; what <c>--methods</c> selects).</param>
/// <param name="Method">The training method.</param>
/// <param name="Description">A short description for the table.</param>
/// <param name="ClassImages">Class pictures for prior preservation; 0 for none.</param>
/// <param name="Settings">The settings as <c>key=value</c> overrides (TOML values), in file order.</param>
public sealed record BenchmarkRowSpec(string Name, string Method, string Description, int ClassImages, IReadOnlyList<string> Settings)
{
    private static readonly string[] Keys = ["name", "method", "description", "class_images", "settings"];

    /// <summary>The row as the benchmark runs it.</summary>
    public BenchmarkMethod ToBenchmarkMethod() => new(Name, Description, (config, subject) => Configure(config, subject), ClassImages);

    /// <summary>The shared configuration with this row's method and settings.</summary>
    /// <exception cref="TrainingConfigException">A setting is unknown or invalid.</exception>
    public TrainingConfig Configure(TrainingConfig shared, BenchmarkSubject subject)
    {
        ArgumentNullException.ThrowIfNull(shared);
        ArgumentNullException.ThrowIfNull(subject);
        return (shared with { Method = Method }).WithOverrides(Settings.Select(s =>
            s.Replace("{identifier}", subject.Identifier, StringComparison.Ordinal).Replace("{class}", subject.ClassWord, StringComparison.Ordinal)));
    }

    /// <summary>Reads one <c>[[methods]]</c> table; the settings are checked against a configuration of the method.</summary>
    /// <exception cref="ToySpecException">A key is missing, unknown or invalid; the message names the file and the table.</exception>
    internal static BenchmarkRowSpec Read(ToySpecReader table, BenchmarkSubject subject)
    {
        table.RejectUnknown(Keys);
        var name = table.String("name").Trim();
        if (name.Length == 0 || name.Any(char.IsWhiteSpace) || name.Contains(','))
        {
            throw table.Error("name", $"must be one word without commas, got \"{name}\"");
        }

        var method = table.OptionalString("method") ?? name;
        if (TrainingMethods.Find(method) is null)
        {
            throw table.Error("method", $"is \"{method}\"; known methods: {string.Join(", ", TrainingMethods.Names)}");
        }

        var settings = new List<string>();
        if (table.Table.TryGetValue("settings", out var value))
        {
            if (value is not TomlTable values)
            {
                throw table.Error("settings", "must be a table of training keys (settings = { learning_rate = 5e-3, ... })");
            }

            foreach (var (key, setting) in values)
            {
                var text = TomlSerializer.Serialize(new TomlTable { ["v"] = setting }).Trim();
                settings.Add(key + "=" + text[(text.IndexOf('=', StringComparison.Ordinal) + 1)..].Trim());
            }
        }

        var row = new BenchmarkRowSpec(name, method, table.OptionalString("description") ?? name, (int)table.Integer("class_images", 0, 0, 10_000), settings);
        try
        {
            row.Configure(new TrainingConfig { PretrainedModel = "base", OutputDir = "out", DatasetConfig = "dataset.toml", MaxTrainSteps = 300 }, subject).Validate();
        }
        catch (TrainingConfigException e)
        {
            throw table.Error("settings", $"do not make a valid {method} configuration: {e.Message}");
        }

        return row;
    }
}
