namespace SdTune.Pipelines;

/// <summary>
/// Finds hypernetwork files named by <c>&lt;hypernet:name:…&gt;</c> prompt tags in a folder: the <c>.pt</c> files under
/// it (recursively), by file name without extension, as A1111 does.
/// </summary>
public sealed class HypernetworkLibrary
{
    private readonly Dictionary<string, string> byName = new(StringComparer.Ordinal);

    private HypernetworkLibrary(string? folder) => Folder = folder;

    /// <summary>The folder searched, or null for none.</summary>
    public string? Folder { get; }

    /// <summary>A library with no folder: names must be paths.</summary>
    public static HypernetworkLibrary None { get; } = new(null);

    /// <summary>Indexes the <c>.pt</c> files under <paramref name="folder"/>.</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static HypernetworkLibrary Load(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"{folder}: hypernetwork folder not found.");
        }

        var library = new HypernetworkLibrary(folder);
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                     .Where(f => Path.GetExtension(f).Equals(".pt", StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal))
        {
            library.byName.TryAdd(Path.GetFileNameWithoutExtension(file), file);
        }

        return library;
    }

    /// <summary>The file a name refers to: an existing path, or a file name (without extension) in the folder.</summary>
    /// <exception cref="FileNotFoundException">Nothing matches; the message names the hypernetwork and the folder.</exception>
    public string Resolve(string name)
    {
        if (File.Exists(name))
        {
            return name;
        }

        if (byName.TryGetValue(name, out var file))
        {
            return file;
        }

        throw new FileNotFoundException(Folder is null
            ? $"hypernetwork '{name}' not found (give --hypernetwork-dir to look names up in a folder)."
            : $"hypernetwork '{name}' not found in {Folder} (by file name without .pt).", name);
    }
}
