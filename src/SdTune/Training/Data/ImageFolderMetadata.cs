using System.Text.Json;

namespace SdTune.Training.Data;

/// <summary>
/// Reads a <c>metadata.jsonl</c> as diffusers' imagefolder datasets have it: one JSON object per line with
/// <c>file_name</c> (the image, relative to the file's folder), <c>text</c> (the caption) and, for ControlNet and
/// T2I-Adapter training, <c>conditioning_file_name</c> or <c>conditioning_image</c> (the condition image, relative
/// likewise). Blank lines are skipped.
/// </summary>
internal static class ImageFolderMetadata
{
    /// <summary>The file name that makes a training folder an imagefolder dataset.</summary>
    public const string FileName = "metadata.jsonl";

    /// <summary>The keys a line may name its condition image with, in the order they are looked up.</summary>
    public static IReadOnlyList<string> ConditioningKeys { get; } = ["conditioning_file_name", "conditioning_image"];

    /// <summary>Whether <paramref name="metadataFile"/> is JSON Lines (read here) rather than sd-scripts' JSON object.</summary>
    public static bool IsJsonLines(string metadataFile) => metadataFile.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);

    /// <summary>Every line's image, caption and condition image (null where the line names none).</summary>
    /// <exception cref="DatasetException">The file is missing, a line is not a JSON object, lacks <c>file_name</c> or <c>text</c>, or names a missing file; the message names the line and the files.</exception>
    public static List<DatasetEntry> Read(string file)
    {
        if (!File.Exists(file))
        {
            throw new DatasetException(file, "metadata file not found.");
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(file))!;
        var result = new List<DatasetEntry>();
        var lines = File.ReadAllLines(file);
        for (var i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim().Length == 0)
            {
                continue;
            }

            var where = $"line {i + 1}";
            using var document = Parse(lines[i], file, where);
            var entry = document.RootElement;
            var image = Resolve(folder, Text(entry, "file_name", file, where) ?? throw new DatasetException(file, $"{where}: 'file_name' is missing."));
            if (!File.Exists(image))
            {
                throw new DatasetException(file, $"{where}: the image {image} does not exist.");
            }

            var caption = Text(entry, "text", file, where) ?? throw new DatasetException(file, $"{where}: 'text' (the caption) is missing.");
            string? conditioning = null;
            if (ConditioningKeys.Select(k => Text(entry, k, file, where)).FirstOrDefault(v => v is not null) is { } name)
            {
                conditioning = Resolve(folder, name);
                if (!File.Exists(conditioning))
                {
                    throw new DatasetException(file, $"{where}: the condition image {conditioning} of {image} does not exist.");
                }
            }

            result.Add(new DatasetEntry(image, caption, conditioning));
        }

        return result;
    }

    private static JsonDocument Parse(string line, string file, string where)
    {
        JsonDocument document;
        try
        {
            document = IO.StrictJson.Parse(line);
        }
        catch (JsonException e)
        {
            throw new DatasetException(file, $"{where} is not valid JSON: {e.Message}");
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            throw new DatasetException(file, $"{where} must be a JSON object {{\"file_name\": ..., \"text\": ...}}.");
        }

        return document;
    }

    private static string? Text(JsonElement entry, string name, string file, string where) =>
        !entry.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new DatasetException(file, $"{where}: '{name}' must be a string.");

    private static string Resolve(string folder, string name) => Path.GetFullPath(Path.Combine(folder, name));
}
