using SdTune.Studio.Runs;

namespace SdTune.Studio.Generation;

/// <summary>
/// The files a generation may use: LoRAs (<c>loras/</c>, and <c>run:ID</c> for a completed run's LoRA), embeddings
/// (<c>embeddings/</c>, named in the prompt by file name), hypernetworks (<c>hypernetworks/</c>) and ControlNets and
/// T2I-Adapters (<c>controlnet/</c>: single files or diffusers folders).
/// </summary>
public sealed class StudioLibrary(RunStore store)
{
    /// <summary>The prefix that names a finished run's output as a LoRA.</summary>
    public const string RunPrefix = "run:";

    /// <summary>The network file extensions listed.</summary>
    private static readonly string[] NetworkExtensions = [".safetensors", ".pt", ".ckpt", ".bin", ".pth"];

    /// <summary>The studio's folder.</summary>
    public StudioHome Home => store.Home;

    /// <summary>The LoRAs: files in <c>loras/</c> and <c>run:ID</c> for each completed run with a .safetensors output.</summary>
    public IReadOnlyList<LibraryEntry> Loras() =>
    [
        .. Files(Home.Loras),
        .. store.All().Where(r => r.State == RunState.Completed && RunLora(r) is not null).Select(r => new LibraryEntry(RunPrefix + r.Id, "run", r.Method)),
    ];

    /// <summary>The textual-inversion embeddings of <c>embeddings/</c> (their names are what a prompt writes).</summary>
    public IReadOnlyList<LibraryEntry> Embeddings() => [.. Files(Home.Embeddings).Select(e => e with { Name = Path.GetFileNameWithoutExtension(e.Name) })];

    /// <summary>The hypernetworks of <c>hypernetworks/</c>.</summary>
    public IReadOnlyList<LibraryEntry> Hypernetworks() => Files(Home.Hypernetworks);

    /// <summary>The ControlNets and T2I-Adapters of <c>controlnet/</c>: single files, and folders holding a <c>config.json</c> (diffusers).</summary>
    public IReadOnlyList<LibraryEntry> Controls() =>
    [
        .. Files(Home.ControlNets, foldersAreModels: true),
        .. Directory.EnumerateDirectories(Home.ControlNets).Where(d => File.Exists(Path.Combine(d, "config.json")))
            .Select(d => new LibraryEntry(Path.GetFileName(d), "folder", null)),
    ];

    /// <summary>A LoRA by name: a file under <c>loras/</c>, or <c>run:ID</c>.</summary>
    /// <exception cref="StudioRequestException">No such LoRA, or the run has none; names <c>loras</c>.</exception>
    public string LoraPath(string name)
    {
        if (!name.StartsWith(RunPrefix, StringComparison.Ordinal))
        {
            return FilePath(Home.Loras, name, "loras", "LoRA");
        }

        return CompletedRunLora(name[RunPrefix.Length..], "loras").Lora;
    }

    /// <summary>A completed run and its LoRA file (its first .safetensors output).</summary>
    /// <param name="id">The run.</param>
    /// <param name="field">The request field that names it.</param>
    /// <param name="need">Said after the refusal: why the request needs such a run; null for nothing.</param>
    /// <exception cref="StudioRequestException">No such run, or it is not completed or has no LoRA; names <paramref name="field"/>.</exception>
    internal (RunStatus Run, string Lora) CompletedRunLora(string id, string field, string? need = null)
    {
        var run = store.Read(id) ?? throw new StudioRequestException(field, $"no run \"{id}\".");
        return run.State == RunState.Completed && RunLora(run) is { } file
            ? (run, file)
            : throw new StudioRequestException(field, $"run {id} is {run.State.ToString().ToLowerInvariant()} and has no .safetensors output to apply{(need is null ? "" : "; " + need)}.");
    }

    /// <summary>A file under <paramref name="root"/>.</summary>
    /// <exception cref="StudioRequestException">The name leads outside the folder or names no file; names <paramref name="field"/>.</exception>
    public string FilePath(string root, string name, string field, string kind)
    {
        var path = Home.Confine(root, name, field);
        return File.Exists(path) ? path : throw new StudioRequestException(field, $"no {kind} \"{name}\" in the {Path.GetFileName(root)} folder.");
    }

    /// <summary>A file or folder under <paramref name="root"/>.</summary>
    /// <exception cref="StudioRequestException">The name leads outside the folder or names nothing; names <paramref name="field"/>.</exception>
    public string EntryPath(string root, string name, string field, string kind)
    {
        var path = Home.Confine(root, name, field);
        return File.Exists(path) || Directory.Exists(path) ? path : throw new StudioRequestException(field, $"no {kind} \"{name}\" in the {Path.GetFileName(root)} folder.");
    }

    /// <summary>A finished run's LoRA file (its first .safetensors output), or null.</summary>
    private string? RunLora(RunStatus run) =>
        run.Outputs.FirstOrDefault(o => o.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) is { } output
            ? Path.Combine(store.Folder(run.Id), output)
            : null;

    /// <summary>The network files under <paramref name="root"/>; with <paramref name="foldersAreModels"/>, not the files inside a diffusers model folder.</summary>
    private static List<LibraryEntry> Files(string root, bool foldersAreModels = false) =>
    [
        .. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => NetworkExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(n => !foldersAreModels || !n.Contains('/', StringComparison.Ordinal) || !File.Exists(Path.Combine(root, n.Split('/')[0], "config.json")))
            .Order(StringComparer.Ordinal)
            .Select(n => new LibraryEntry(n, "file", null)),
    ];
}

/// <summary>A file a generation may name.</summary>
/// <param name="Name">The name to send (a path under its folder, <c>run:ID</c>, or for embeddings the name the prompt writes).</param>
/// <param name="Source">file, folder or run.</param>
/// <param name="Method">The run's training method, for runs.</param>
public sealed record LibraryEntry(string Name, string Source, string? Method);
