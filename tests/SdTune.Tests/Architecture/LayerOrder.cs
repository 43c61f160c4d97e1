using System.Text.RegularExpressions;

namespace SdTune.Tests.Architecture;

/// <summary>
/// The documented order of the library's top-level folders: the first fenced block under "## Layers" in
/// <c>docs/architecture.md</c>, one layer per line, top layer first, the folders of a layer on one line. A folder may
/// refer only to folders in layers below its own; folders of one layer do not refer to each other.
/// </summary>
internal sealed partial class LayerOrder
{
    private readonly Dictionary<string, int> heightOf;

    /// <summary>Builds the order from layers given bottom first.</summary>
    public LayerOrder(IReadOnlyList<IReadOnlyList<string>> layersBottomFirst)
    {
        Layers = layersBottomFirst;
        heightOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var height = 0; height < layersBottomFirst.Count; height++)
        {
            foreach (var folder in layersBottomFirst[height])
            {
                if (!heightOf.TryAdd(folder, height))
                {
                    throw new ArgumentException($"{folder} is listed in two layers.", nameof(layersBottomFirst));
                }
            }
        }
    }

    /// <summary>The layers, bottom first.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Layers { get; }

    /// <summary>Reads the order from the "## Layers" section of a markdown document.</summary>
    /// <exception cref="FormatException">The section or its fenced block is missing or empty.</exception>
    public static LayerOrder FromMarkdown(string markdown)
    {
        var section = markdown.IndexOf("\n## Layers", StringComparison.Ordinal);
        var open = section < 0 ? -1 : markdown.IndexOf("```", section, StringComparison.Ordinal);
        var bodyStart = open < 0 ? -1 : markdown.IndexOf('\n', open);
        var close = bodyStart < 0 ? -1 : markdown.IndexOf("```", bodyStart, StringComparison.Ordinal);
        if (close < 0)
        {
            throw new FormatException("no fenced block under a '## Layers' heading");
        }

        var layersTopFirst = markdown[bodyStart..close]
            .Split('\n')
            .Select(line => (IReadOnlyList<string>)FolderName().Matches(line).Select(m => m.Value).ToList())
            .Where(layer => layer.Count > 0)
            .ToList();
        if (layersTopFirst.Count == 0)
        {
            throw new FormatException("the '## Layers' block names no folder");
        }

        layersTopFirst.Reverse();
        return new LayerOrder(layersTopFirst);
    }

    /// <summary>Whether <paramref name="folder"/> has a place in the order.</summary>
    public bool Contains(string folder) => heightOf.ContainsKey(folder);

    /// <summary>The imports that point sideways or up (or involve a folder the order does not place).</summary>
    public IReadOnlyList<FolderImport> Violations(IEnumerable<FolderImport> imports) =>
        imports.Where(i => !heightOf.TryGetValue(i.From, out var from) || !heightOf.TryGetValue(i.To, out var to) || to >= from).ToList();

    [GeneratedRegex(@"\b[A-Z][A-Za-z]+\b")]
    private static partial Regex FolderName();
}
