namespace SdTune.Training.Data;

/// <summary>Finds training images in a folder the way sd-scripts does: the top level only, by extension (any case).</summary>
public static class ImageFiles
{
    /// <summary>The recognised image extensions (compared case-insensitively).</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".png", ".jpg", ".jpeg", ".webp", ".bmp"];

    /// <summary>True when the file name has one of <see cref="Extensions"/>.</summary>
    /// <param name="path">A file path or name.</param>
    public static bool IsImage(string path)
    {
        var extension = Path.GetExtension(path);
        return Extensions.Any(e => string.Equals(e, extension, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The images directly inside <paramref name="directory"/>, sorted by ordinal path so runs are reproducible.</summary>
    /// <param name="directory">The folder.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static IReadOnlyList<string> List(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"{directory}: image folder not found.");
        }

        return Directory.EnumerateFiles(directory).Where(IsImage).Order(StringComparer.Ordinal).ToList();
    }
}
