using System.Text.Json;

namespace SdTune.Training.Data;

/// <summary>
/// Reads a fine-tune subset's <c>metadata_file</c>: a JSON object <c>{image_key: {"caption", "tags", ...}}</c>.
/// The image is the key itself when that file exists, else <c>image_dir/&lt;key&gt;&lt;ext&gt;</c> for a known extension.
/// The caption is <c>caption</c> (or <c>tags</c> when there is no caption) with <c>tags</c> appended after the caption separator.
/// </summary>
internal static class FineTuneMetadata
{
    public static List<(string Path, string Caption)> Read(SubsetOptions subset)
    {
        var file = subset.MetadataFile!;
        if (!File.Exists(file))
        {
            throw new DatasetException(file, "metadata_file not found.");
        }

        JsonDocument document;
        try
        {
            document = IO.StrictJson.Parse(File.ReadAllBytes(file));
        }
        catch (JsonException e)
        {
            throw new DatasetException(file, $"metadata_file is not valid JSON: {e.Message}");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new DatasetException(file, "metadata_file must hold a JSON object {image_key: {\"caption\": ..., \"tags\": ...}}.");
            }

            var result = new List<(string, string)>();
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                var path = FindImage(entry.Name, subset.ImageDirectory)
                    ?? throw new DatasetException(file, $"no image found for key '{entry.Name}' (looked for the key itself and under image_dir with {string.Join(", ", ImageFiles.Extensions)}).");
                var caption = StringOf(entry.Value, "caption", file, entry.Name);
                var tags = StringOf(entry.Value, "tags", file, entry.Name);
                if (caption is null)
                {
                    caption = tags;
                    tags = null;
                }

                if (subset.EnableWildcard)
                {
                    tags = tags?.Replace("\n", subset.CaptionSeparator, StringComparison.Ordinal);
                    if (caption is not null && tags is not null)
                    {
                        caption = string.Join('\n', caption.Split('\n').Where(l => l.Trim().Length > 0).Select(l => l + subset.CaptionSeparator + tags));
                    }
                }
                else if (!string.IsNullOrEmpty(tags))
                {
                    caption += subset.CaptionSeparator + tags;
                }

                result.Add((path, caption ?? ""));
            }

            return result;
        }
    }

    private static string? FindImage(string key, string? imageDirectory)
    {
        if (File.Exists(key))
        {
            return key;
        }

        if (imageDirectory is null)
        {
            return null;
        }

        foreach (var extension in ImageFiles.Extensions)
        {
            foreach (var candidate in new[] { key + extension, key + extension.ToUpperInvariant() })
            {
                var path = Path.Combine(imageDirectory, candidate);
                if (File.Exists(path))
                {
                    return path;
                }
            }
        }

        return null;
    }

    private static string? StringOf(JsonElement entry, string name, string file, string key)
    {
        if (entry.ValueKind != JsonValueKind.Object || !entry.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new DatasetException(file, $"'{name}' of '{key}' must be a string.");
    }
}
