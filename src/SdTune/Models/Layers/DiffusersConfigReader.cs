using System.Globalization;
using System.Text.Json;
using SdTune.IO;

namespace SdTune.Models.Layers;

/// <summary>
/// Reads a diffusers <c>config.json</c>: typed getters that fall back to the constructor default when a key is
/// missing or null, and errors that name the field and the file.
/// </summary>
internal sealed class DiffusersConfigReader
{
    private readonly JsonElement root;

    private DiffusersConfigReader(JsonElement root, string source)
    {
        this.root = root;
        Source = source;
    }

    /// <summary>Where the config came from (a path, or a description), used in error messages.</summary>
    public string Source { get; }

    /// <summary>Parses JSON text; <paramref name="expectedClassName"/> is checked against <c>_class_name</c> when present.</summary>
    public static DiffusersConfigReader Parse(string json, string source, string expectedClassName)
    {
        JsonElement root;
        try
        {
            using var document = IO.StrictJson.Parse(json);
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(source, $"invalid JSON in config: {e.Message}");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointFormatException(source, "the config must be a JSON object.");
        }

        var reader = new DiffusersConfigReader(root, source);
        var className = reader.String("_class_name", null);
        if (className is not null && className != expectedClassName)
        {
            throw reader.Error("_class_name", $"is '{className}', expected '{expectedClassName}'");
        }

        return reader;
    }

    /// <summary>An error about one field.</summary>
    public CheckpointFormatException Error(string field, string problem) => new(Source, $"config field '{field}' {problem}.");

    /// <summary>Whether the key is present with a non-null value.</summary>
    public bool Has(string key) => root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>Whether the key is present with the value null (different from missing for a few fields).</summary>
    public bool IsExplicitNull(string key) => root.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Null;

    public int Int(string key, int defaultValue) => NullableInt(key) ?? defaultValue;

    public int? NullableInt(string key) => Has(key) ? ToInt(key, root.GetProperty(key)) : null;

    public double Double(string key, double defaultValue) => NullableDouble(key) ?? defaultValue;

    public double? NullableDouble(string key) => Has(key) ? ToDouble(key, root.GetProperty(key)) : null;

    public bool Bool(string key, bool defaultValue) => NullableBool(key) ?? defaultValue;

    public bool? NullableBool(string key)
    {
        if (!Has(key))
        {
            return null;
        }

        var v = root.GetProperty(key);
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(key, $"must be true or false, got {v.GetRawText()}"),
        };
    }

    public string? String(string key, string? defaultValue)
    {
        if (!Has(key))
        {
            return defaultValue;
        }

        var v = root.GetProperty(key);
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw Error(key, $"must be a string, got {v.GetRawText()}");
    }

    public IReadOnlyList<string> StringList(string key, IReadOnlyList<string> defaultValue)
    {
        if (!Has(key))
        {
            return defaultValue;
        }

        var v = root.GetProperty(key);
        if (v.ValueKind != JsonValueKind.Array)
        {
            throw Error(key, $"must be a list of strings, got {v.GetRawText()}");
        }

        return [.. v.EnumerateArray().Select((e, i) => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw Error($"{key}[{i}]", $"must be a string, got {e.GetRawText()}"))];
    }

    public IReadOnlyList<int> IntList(string key, IReadOnlyList<int> defaultValue) =>
        NullableIntOrList(key) switch
        {
            null => defaultValue,
            { List: { } list } => list,
            _ => throw Error(key, "must be a list of integers"),
        };

    public IReadOnlyList<double>? NullableDoubleList(string key)
    {
        if (!Has(key))
        {
            return null;
        }

        var v = root.GetProperty(key);
        if (v.ValueKind != JsonValueKind.Array)
        {
            throw Error(key, $"must be a list of numbers, got {v.GetRawText()}");
        }

        return [.. v.EnumerateArray().Select((e, i) => ToDouble($"{key}[{i}]", e))];
    }

    /// <summary>An integer or a list of integers (diffusers' "int or tuple" fields); null when missing or null.</summary>
    public IntOrList? NullableIntOrList(string key)
    {
        if (!Has(key))
        {
            return null;
        }

        var v = root.GetProperty(key);
        if (v.ValueKind == JsonValueKind.Array)
        {
            return new IntOrList(null, [.. v.EnumerateArray().Select((e, i) => ToInt($"{key}[{i}]", e))]);
        }

        return new IntOrList(ToInt(key, v), null);
    }

    /// <summary>Expands an int-or-list field to one value per block, checking a list's length.</summary>
    public IReadOnlyList<int> PerBlock(string key, IntOrList value, int count)
    {
        if (value.List is { } list)
        {
            return list.Count == count ? list : throw Error(key, $"has {list.Count} entries but there are {count} blocks");
        }

        return [.. Enumerable.Repeat(value.Scalar!.Value, count)];
    }

    private int ToInt(string field, JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Number)
        {
            if (e.TryGetInt32(out var i))
            {
                return i;
            }

            if (e.TryGetDouble(out var d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue)
            {
                return (int)d;
            }
        }

        throw Error(field, $"must be an integer, got {e.GetRawText()}");
    }

    private double ToDouble(string field, JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Number)
        {
            return e.GetDouble();
        }

        // Non-finite floats are written as strings by some exporters.
        if (e.ValueKind == JsonValueKind.String && double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            return d;
        }

        throw Error(field, $"must be a number, got {e.GetRawText()}");
    }
}

/// <summary>A config value that is either one integer or a list of integers.</summary>
internal sealed record IntOrList(int? Scalar, IReadOnlyList<int>? List);
