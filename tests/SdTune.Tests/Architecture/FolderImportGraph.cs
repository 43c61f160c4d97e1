using System.Text.RegularExpressions;

namespace SdTune.Tests.Architecture;

/// <summary>One reason a top-level folder of the library depends on another.</summary>
/// <param name="From">The folder whose file holds the reference.</param>
/// <param name="To">The folder referred to.</param>
/// <param name="File">The file, relative to the library root.</param>
/// <param name="Evidence">The reference as written.</param>
internal sealed record FolderImport(string From, string To, string File, string Evidence)
{
    public override string ToString() => $"{From} -> {To} ({File}: {Evidence})";
}

/// <summary>A C# file of the library: the top-level folder it lives in, its path relative to the library root, its text.</summary>
internal sealed record SourceFile(string Folder, string RelativePath, string Text);

/// <summary>
/// Which top-level folders of <c>src/SdTune</c> refer to which, read from the source text: using directives (plain,
/// <c>static</c>, aliases, <c>global</c>), fully qualified names (<c>SdTune.X.…</c>, <c>global::SdTune.X.…</c>),
/// names qualified relative to the enclosing <c>SdTune</c> namespace (<c>X.Type</c>, <c>X.Sub.Type</c>), documentation
/// <c>cref</c>s, and global usings of the project file. A global using applies to every file, so it counts as an
/// import of every folder. Comments and string literals are not references.
/// </summary>
internal sealed partial class FolderImportGraph
{
    private FolderImportGraph(IReadOnlyList<string> folders, IReadOnlyList<FolderImport> imports, IReadOnlyList<string> misplaced)
    {
        Folders = folders;
        Imports = imports;
        MisplacedFiles = misplaced;
    }

    /// <summary>The top-level folders that hold C# files.</summary>
    public IReadOnlyList<string> Folders { get; }

    /// <summary>Every reference from one folder to another (a folder's references to itself are left out).</summary>
    public IReadOnlyList<FolderImport> Imports { get; }

    /// <summary>Files whose namespace is not <c>SdTune.</c> followed by their folder (a scan by folder would miss what they import).</summary>
    public IReadOnlyList<string> MisplacedFiles { get; }

    /// <summary>Reads every C# file under <paramref name="libraryRoot"/> (build output excluded) and the project files there.</summary>
    public static FolderImportGraph Read(string libraryRoot)
    {
        var sources = new List<SourceFile>();
        foreach (var path in Directory.EnumerateFiles(libraryRoot, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(libraryRoot, path).Replace('\\', '/');
            var folder = relative.Split('/')[0];
            if (folder is "bin" or "obj")
            {
                continue;
            }

            sources.Add(new SourceFile(relative.Contains('/', StringComparison.Ordinal) ? folder : "", relative, File.ReadAllText(path)));
        }

        var projectFiles = Directory.EnumerateFiles(libraryRoot, "*.csproj").Select(File.ReadAllText);
        return FromSources(sources, projectFiles);
    }

    /// <summary>Builds the graph from source texts; <paramref name="projectFiles"/> are MSBuild texts whose <c>&lt;Using&gt;</c> items count.</summary>
    public static FolderImportGraph FromSources(IReadOnlyList<SourceFile> sources, IEnumerable<string> projectFiles)
    {
        var folders = sources.Select(s => s.Folder).Where(f => f.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var code = sources.Select(s => (File: s, Code: CSharpCode.NamesOnly(s.Text))).ToList();
        var names = NamesDeclaredPerFolder(code.Select(c => c.Code), folders);

        var imports = new List<FolderImport>();
        var misplaced = new List<string>();
        foreach (var (file, text) in code)
        {
            var ns = NamespacePattern().Match(text);
            if (ns.Success && !(file.Folder.Length > 0 && InFolder(ns.Groups[1].Value, file.Folder)))
            {
                misplaced.Add($"{file.RelativePath}: namespace {ns.Groups[1].Value}");
            }

            foreach (Match global in GlobalUsingPattern().Matches(text))
            {
                imports.AddRange(folders.Select(from => new FolderImport(from, global.Groups[1].Value, file.RelativePath, global.Value.Trim())));
            }

            foreach (Match name in QualifiedPattern().Matches(text))
            {
                imports.Add(new FolderImport(file.Folder, name.Groups[1].Value, file.RelativePath, name.Value));
            }

            if (ns.Success && ns.Groups[1].Value.StartsWith("SdTune", StringComparison.Ordinal))
            {
                // Inside namespace SdTune.*, "Checkpoints.Foo" means SdTune.Checkpoints.Foo when Checkpoints declares Foo.
                foreach (Match name in RelativePattern().Matches(text))
                {
                    var target = name.Groups[1].Value;
                    if (names.TryGetValue(target, out var declared) && declared.Contains(name.Groups[2].Value))
                    {
                        imports.Add(new FolderImport(file.Folder, target, file.RelativePath, name.Value));
                    }
                }
            }
        }

        foreach (var project in projectFiles)
        {
            foreach (Match item in ProjectUsingPattern().Matches(project))
            {
                imports.AddRange(folders.Select(from => new FolderImport(from, item.Groups[1].Value, "project file", item.Value)));
            }
        }

        var known = folders.ToHashSet(StringComparer.Ordinal);
        var distinct = imports
            .Where(i => i.From != i.To && known.Contains(i.To) && i.From.Length > 0)
            .DistinctBy(i => (i.From, i.To, i.File, i.Evidence))
            .ToList();
        return new FolderImportGraph(folders, distinct, misplaced);
    }

    private static bool InFolder(string ns, string folder) =>
        ns == "SdTune." + folder || ns.StartsWith("SdTune." + folder + ".", StringComparison.Ordinal);

    // For each folder: the types declared in it and the namespace segments right below SdTune.<folder>.
    private static Dictionary<string, HashSet<string>> NamesDeclaredPerFolder(IEnumerable<string> codes, IReadOnlyList<string> folders)
    {
        var names = folders.ToDictionary(f => f, _ => new HashSet<string>(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var text in codes)
        {
            var ns = NamespacePattern().Match(text);
            if (!ns.Success)
            {
                continue;
            }

            var parts = ns.Groups[1].Value.Split('.');
            if (parts.Length < 2 || parts[0] != "SdTune" || !names.TryGetValue(parts[1], out var declared))
            {
                continue;
            }

            if (parts.Length > 2)
            {
                declared.Add(parts[2]);
            }
            else
            {
                declared.UnionWith(TypeDeclarationPattern().Matches(text).Select(m => m.Groups[1].Value));
            }
        }

        return names;
    }

    [GeneratedRegex(@"^\s*namespace\s+([\w.]+)", RegexOptions.Multiline)]
    private static partial Regex NamespacePattern();

    [GeneratedRegex(@"^\s*global\s+using\s+(?:static\s+)?(?:\w+\s*=\s*)?(?:global::)?SdTune\.(\w+)[^;]*;", RegexOptions.Multiline)]
    private static partial Regex GlobalUsingPattern();

    [GeneratedRegex(@"(?<![\w.])(?:global::)?SdTune\.(\w+)")]
    private static partial Regex QualifiedPattern();

    [GeneratedRegex(@"(?<![\w.:])([A-Z]\w*)\s*\.\s*([A-Z]\w*)")]
    private static partial Regex RelativePattern();

    [GeneratedRegex(@"\b(?:class|struct|interface|enum|record|delegate\s+[\w<>\[\],.?\s]+?)\s+([A-Z]\w*)")]
    private static partial Regex TypeDeclarationPattern();

    [GeneratedRegex(@"<Using\s+Include\s*=\s*""SdTune\.(\w+)[^""]*""")]
    private static partial Regex ProjectUsingPattern();
}
