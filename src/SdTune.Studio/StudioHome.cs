namespace SdTune.Studio;

/// <summary>
/// The studio's folder: <c>runs/</c> (one folder per run), <c>generations/</c>, <c>benchmarks/</c> and <c>grids/</c> (one
/// folder per queued generation, benchmark or grid job), <c>storage/</c> (the job queue's SQLite file), <c>outputs/</c> (generated images), and the
/// roots requests may name files under: <c>models/</c>, <c>loras/</c>, <c>embeddings/</c>, <c>hypernetworks/</c>,
/// <c>controlnet/</c> and <c>datasets/</c>. A path in a request is read relative to its root and refused when it leads
/// outside every root.
/// </summary>
public sealed class StudioHome
{
    /// <summary>The name of the embedded toy base model in requests.</summary>
    public const string ToyModelName = "toy";

    /// <summary>Creates the folders under <paramref name="directory"/> when missing.</summary>
    /// <param name="directory">The studio's folder.</param>
    /// <param name="toyModel">The embedded toy base model (a diffusers folder), offered as the model <see cref="ToyModelName"/>; null when there is none.</param>
    /// <param name="benchmarkSpec">The concept benchmark's spec (a TOML file) benchmark jobs run on the toy base model; null when there is none.</param>
    public StudioHome(string directory, string? toyModel, string? benchmarkSpec = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        Root = Path.GetFullPath(directory);
        ToyModel = toyModel is null ? null : Path.GetFullPath(toyModel);
        BenchmarkSpec = benchmarkSpec is null ? null : Path.GetFullPath(benchmarkSpec);
        foreach (var folder in new[] { Runs, Generations, Benchmarks, Grids, Storage, Models, Loras, Embeddings, Hypernetworks, ControlNets, Datasets, Outputs })
        {
            Directory.CreateDirectory(folder);
        }
    }

    /// <summary>The studio's folder (absolute).</summary>
    public string Root { get; }

    /// <summary>The embedded toy base model, or null.</summary>
    public string? ToyModel { get; }

    /// <summary>The concept benchmark's spec, or null.</summary>
    public string? BenchmarkSpec { get; }

    /// <summary>One folder per run.</summary>
    public string Runs => Path.Combine(Root, "runs");

    /// <summary>One folder per benchmark job.</summary>
    public string Benchmarks => Path.Combine(Root, "benchmarks");

    /// <summary>One folder per queued generation (its request and status; the images go to <see cref="Outputs"/>).</summary>
    public string Generations => Path.Combine(Root, "generations");

    /// <summary>One folder per grid job.</summary>
    public string Grids => Path.Combine(Root, "grids");

    /// <summary>The job queue's storage.</summary>
    public string Storage => Path.Combine(Root, "storage");

    /// <summary>The default job queue database.</summary>
    public string QueueDatabase => Path.Combine(Storage, "hangfire.db");

    /// <summary>Base models (diffusers folders or single files).</summary>
    public string Models => Path.Combine(Root, "models");

    /// <summary>LoRA files.</summary>
    public string Loras => Path.Combine(Root, "loras");

    /// <summary>Textual-inversion embeddings, named in prompts by file name.</summary>
    public string Embeddings => Path.Combine(Root, "embeddings");

    /// <summary>Hypernetwork files.</summary>
    public string Hypernetworks => Path.Combine(Root, "hypernetworks");

    /// <summary>ControlNets and T2I-Adapters (single files or diffusers folders).</summary>
    public string ControlNets => Path.Combine(Root, "controlnet");

    /// <summary>Training datasets (folders).</summary>
    public string Datasets => Path.Combine(Root, "datasets");

    /// <summary>Generated images (PNGs with A1111's parameters).</summary>
    public string Outputs => Path.Combine(Root, "outputs");

    /// <summary>The roots a request may name paths under.</summary>
    public IReadOnlyList<string> PathRoots => [Models, Loras, Embeddings, Hypernetworks, ControlNets, Datasets];

    /// <summary>
    /// <paramref name="value"/> as an absolute path: relative paths are read against <paramref name="root"/>; the result
    /// must lie under <paramref name="root"/> (or, for an absolute path, under any of <see cref="PathRoots"/>).
    /// </summary>
    /// <exception cref="StudioRequestException">The path is empty or leads outside the allowed folders; names <paramref name="field"/>.</exception>
    public string Confine(string root, string value, string field)
    {
        ArgumentNullException.ThrowIfNull(root);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new StudioRequestException(field, "is empty.");
        }

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            throw new StudioRequestException(field, "is not a valid path.");
        }

        var rooted = Path.IsPathRooted(value);
        var full = Path.GetFullPath(rooted ? value : Path.Combine(root, value));
        var allowed = rooted ? PathRoots : [root];
        if (!allowed.Any(r => IsUnder(full, r)))
        {
            var where = rooted ? "the studio's library folders" : $"the {Path.GetFileName(root)} folder";
            throw new StudioRequestException(field, $"\"{value}\" is outside {where}.");
        }

        return full;
    }

    /// <summary>A base model by name: <see cref="ToyModelName"/>, or a file or folder under <see cref="Models"/>.</summary>
    /// <exception cref="StudioRequestException">The model is unknown or outside the models folder; names <paramref name="field"/>.</exception>
    public string Model(string name, string field = "base_model")
    {
        if (name == ToyModelName)
        {
            return ToyModel ?? throw new StudioRequestException(field, "the embedded toy base model is not available here.");
        }

        var path = Confine(Models, name, field);
        return File.Exists(path) || Directory.Exists(path) ? path : throw new StudioRequestException(field, $"no model \"{name}\" in the models folder.");
    }

    /// <summary>The names of the models a request may use: <see cref="ToyModelName"/> and the entries of <see cref="Models"/>.</summary>
    public IReadOnlyList<string> ModelNames() =>
        [.. (ToyModel is null ? Array.Empty<string>() : [ToyModelName]), .. Directory.EnumerateFileSystemEntries(Models).Select(Path.GetFileName).Order(StringComparer.Ordinal)!];

    /// <summary>The dataset folders (relative to <see cref="Datasets"/>).</summary>
    public IReadOnlyList<string> DatasetNames() => [.. Directory.EnumerateDirectories(Datasets).Select(d => Path.GetFileName(d)).Order(StringComparer.Ordinal)];

    private static bool IsUnder(string path, string root) =>
        path.Equals(root, StringComparison.Ordinal) || path.StartsWith(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
