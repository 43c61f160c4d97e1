namespace SdTune.Tests.Architecture;

/// <summary>
/// The library's top-level folders point one way: each refers only to folders in lower layers of the order drawn in
/// docs/architecture.md, so no two folders import each other.
/// </summary>
public class ArchitectureTests
{
    private static readonly Lazy<FolderImportGraph> Library = new(() =>
        FolderImportGraph.Read(Path.Combine(TestPaths.RepositoryRoot, "src", "SdTune")));

    private static readonly Lazy<LayerOrder> Documented = new(() =>
        LayerOrder.FromMarkdown(File.ReadAllText(Path.Combine(TestPaths.RepositoryRoot, "docs", "architecture.md"))));

    [Fact]
    public void Every_top_level_folder_has_a_place_in_the_documented_layers()
    {
        Assert.NotEmpty(Library.Value.Folders);
        var unplaced = Library.Value.Folders.Where(f => !Documented.Value.Contains(f)).ToList();
        Assert.True(unplaced.Count == 0, "Folders missing from the layers in docs/architecture.md: " + string.Join(", ", unplaced));
    }

    [Fact]
    public void No_folder_refers_to_a_folder_in_its_own_layer_or_above()
    {
        var violations = Documented.Value.Violations(Library.Value.Imports);
        Assert.True(violations.Count == 0, "Imports against the layer order in docs/architecture.md:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Every_file_declares_the_namespace_of_its_folder()
    {
        Assert.Empty(Library.Value.MisplacedFiles);
    }

    [Fact]
    public void The_library_is_read_whole()
    {
        // Guards the scan itself: the folders the rest of the code base builds on are found, and their known
        // downward imports are seen (a scan that read nothing would pass the layering test).
        Assert.Contains("Models", Library.Value.Folders);
        Assert.Contains("Checkpoints", Library.Value.Folders);
        Assert.Contains(Library.Value.Imports, i => i is { From: "Checkpoints", To: "Models" });
        Assert.Contains(Library.Value.Imports, i => i is { From: "Training", To: "Checkpoints" });
    }
}
