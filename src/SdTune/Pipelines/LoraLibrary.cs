using SdTune.Checkpoints.Safetensors;

namespace SdTune.Pipelines;

/// <summary>
/// Finds LoRA files named by <c>&lt;lora:name:…&gt;</c> prompt tags in a folder: by file name without extension,
/// or by the <c>ss_output_name</c> alias stored in a safetensors file (A1111's rule).
/// </summary>
public sealed class LoraLibrary
{
    private static readonly string[] Extensions = [".safetensors", ".pt", ".ckpt", ".bin"];
    private readonly Dictionary<string, string> byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> byAlias = new(StringComparer.Ordinal);

    private LoraLibrary(string? folder) => Folder = folder;

    /// <summary>The folder searched, or null for none.</summary>
    public string? Folder { get; }

    /// <summary>A library with no folder: tags can only name files by path.</summary>
    public static LoraLibrary None { get; } = new(null);

    /// <summary>Indexes the LoRA files under <paramref name="folder"/> (recursively).</summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static LoraLibrary Load(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"{folder}: LoRA folder not found.");
        }

        var library = new LoraLibrary(folder);
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant())).Order(StringComparer.Ordinal))
        {
            library.byName.TryAdd(Path.GetFileNameWithoutExtension(file), file);
            if (Path.GetExtension(file).Equals(".safetensors", StringComparison.OrdinalIgnoreCase))
            {
                try
                {
                    using var header = SafetensorsFile.Open(file);
                    if (header.Metadata.TryGetValue("ss_output_name", out var alias) && alias.Length > 0)
                    {
                        library.byAlias.TryAdd(alias, file);
                    }
                }
                catch (IOException)
                {
                    // An unreadable file is reported when a prompt asks for it.
                }
            }
        }

        return library;
    }

    /// <summary>The file a tag name refers to: an existing path, a file name in the folder, or an alias.</summary>
    /// <exception cref="FileNotFoundException">Nothing matches; the message names the tag and the folder.</exception>
    public string Resolve(string name)
    {
        if (File.Exists(name))
        {
            return name;
        }

        if (byName.TryGetValue(name, out var file) || byAlias.TryGetValue(name, out file))
        {
            return file;
        }

        throw new FileNotFoundException(Folder is null
            ? $"LoRA '{name}' not found (give --lora-dir to look names up in a folder)."
            : $"LoRA '{name}' not found in {Folder} (by file name or ss_output_name alias).", name);
    }
}
