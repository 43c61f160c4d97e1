namespace SdTune.Training.Data;

/// <summary>
/// sd-scripts' <c>tag_frequency</c>: for each subset folder (its name; the metadata file's for fine-tune subsets), how
/// often each tag occurs in the stored captions of its images: captions split at commas, tags trimmed and lower-cased,
/// empty ones skipped, each occurrence counted once (repeats not counted). Folders and tags keep the order they are
/// first met in; a folder named by several subsets counts their images together.
/// </summary>
internal static class TagFrequency
{
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, int>> Count(IEnumerable<(string Folder, string Caption)> captions)
    {
        var folders = new OrderedDictionary<string, OrderedDictionary<string, int>>(StringComparer.Ordinal);
        foreach (var (folder, caption) in captions)
        {
            if (!folders.TryGetValue(folder, out var counts))
            {
                counts = new OrderedDictionary<string, int>(StringComparer.Ordinal);
                folders.Add(folder, counts);
            }

            foreach (var raw in caption.Split(','))
            {
                var tag = raw.Trim().ToLowerInvariant();
                if (tag.Length > 0)
                {
                    counts[tag] = counts.GetValueOrDefault(tag) + 1;
                }
            }
        }

        var result = new OrderedDictionary<string, IReadOnlyDictionary<string, int>>(StringComparer.Ordinal);
        foreach (var (folder, counts) in folders)
        {
            result.Add(folder, counts);
        }

        return result;
    }

    /// <summary>The folder name sd-scripts keys a subset by: the last part of its image folder or metadata file.</summary>
    public static string FolderName(string source) => Path.GetFileName(source.TrimEnd('/', '\\'));
}
