using Tomlyn;
using Tomlyn.Model;

namespace SdTune.ToyWorld;

/// <summary>Reads typed fields from a TOML table, with errors naming the source, the table and the key.</summary>
internal sealed class ToySpecReader(TomlTable table, string source, string level)
{
    public TomlTable Table { get; } = table;

    public string Source { get; } = source;

    public string Level { get; } = level;

    public static TomlTable ParseToml(string toml, string source)
    {
        try
        {
            return TomlSerializer.Deserialize<TomlTable>(toml, new TomlSerializerOptions { SourceName = source })
                ?? throw new ToySpecException($"{source}: the file is empty.");
        }
        catch (TomlException e)
        {
            throw new ToySpecException($"{source}: invalid TOML: {e.Message}", e);
        }
    }

    public static string ReadFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ToySpecException($"{path}: cannot read the spec: {e.Message}", e);
        }
    }

    public ToySpecException Error(string key, string problem) => new($"{Source}: {Level}: key '{key}' {problem}.");

    public void RejectUnknown(params string[] known)
    {
        foreach (var key in Table.Keys)
        {
            if (!known.Contains(key, StringComparer.Ordinal))
            {
                throw new ToySpecException($"{Source}: {Level}: unknown key '{key}'; valid keys: {string.Join(", ", known)}.");
            }
        }
    }

    public string? OptionalString(string key) => Table.TryGetValue(key, out var value)
        ? value is string s ? s : throw Error(key, $"must be a string, got {Describe(value)}")
        : null;

    public string String(string key) => OptionalString(key) ?? throw Error(key, "is required");

    public long Integer(string key, long fallback, long min, long max)
    {
        if (!Table.TryGetValue(key, out var value))
        {
            return fallback;
        }

        return value is long l && l >= min && l <= max ? l : throw Error(key, $"must be an integer in [{min}, {max}], got {Describe(value)}");
    }

    public T Enum<T>(string key, T? fallback = null)
        where T : struct, Enum
    {
        var word = OptionalString(key);
        if (word is null)
        {
            return fallback ?? throw Error(key, $"is required (one of {ToyNames.ValidWords<T>()})");
        }

        return ToyNames.TryParse<T>(word, out var value) ? value : throw Error(key, $"is \"{word}\"; expected one of {ToyNames.ValidWords<T>()}");
    }

    public T? OptionalEnum<T>(string key)
        where T : struct, Enum =>
        OptionalString(key) is null ? null : Enum<T>(key);

    public List<ToySpecReader> Tables(string key)
    {
        if (!Table.TryGetValue(key, out var value))
        {
            return [];
        }

        var tables = value switch
        {
            TomlTableArray array => array.ToList(),
            TomlArray array when array.All(x => x is TomlTable) => array.Cast<TomlTable>().ToList(),
            _ => throw Error(key, $"must be an array of tables ([[{key}]]), got {Describe(value)}"),
        };
        return tables.Select((t, i) => new ToySpecReader(t, Source, $"[[{key}]] #{i + 1}")).ToList();
    }

    public ToySpecReader SubTable(string key) => Table.TryGetValue(key, out var value)
        ? value is TomlTable t ? new ToySpecReader(t, Source, $"[{key}]") : throw Error(key, $"must be a table ([{key}]), got {Describe(value)}")
        : throw new ToySpecException($"{Source}: table [{key}] is required.");

    private static string Describe(object? value) => value switch
    {
        null => "nothing",
        string s => $"\"{s}\"",
        TomlTable => "a table",
        TomlArray or TomlTableArray => "an array",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "?",
    };
}
