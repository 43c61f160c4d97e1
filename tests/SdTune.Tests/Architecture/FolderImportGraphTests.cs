namespace SdTune.Tests.Architecture;

public class FolderImportGraphTests
{
    private const string CheckpointsFile = """
        namespace SdTune.Checkpoints;

        public sealed class Reader { }
        """;

    private const string CheckpointsSubFile = """
        namespace SdTune.Checkpoints.Safetensors;

        public static class Header { }
        """;

    private static readonly LayerOrder ModelsBelowCheckpoints = new([["Models"], ["Checkpoints"]]);

    private static FolderImportGraph Graph(string modelsCode, params string[] projectFiles) =>
        FolderImportGraph.FromSources(
            [
                new SourceFile("Models", "Models/Model.cs", modelsCode),
                new SourceFile("Checkpoints", "Checkpoints/Reader.cs", CheckpointsFile),
                new SourceFile("Checkpoints", "Checkpoints/Safetensors/Header.cs", CheckpointsSubFile),
            ],
            projectFiles);

    [Theory]
    [InlineData("using SdTune.Checkpoints;\nnamespace SdTune.Models;")]
    [InlineData("using SdTune.Checkpoints.Safetensors;\nnamespace SdTune.Models;")]
    [InlineData("using static SdTune.Checkpoints.Safetensors.Header;\nnamespace SdTune.Models;")]
    [InlineData("using Files = SdTune.Checkpoints.Reader;\nnamespace SdTune.Models;")]
    [InlineData("using global::SdTune.Checkpoints;\nnamespace SdTune.Models;")]
    [InlineData("namespace SdTune.Models;\nclass M { SdTune.Checkpoints.Reader? r; }")]
    [InlineData("namespace SdTune.Models;\nclass M { object r = new global::SdTune.Checkpoints.Reader(); }")]
    [InlineData("namespace SdTune.Models;\nclass M { Checkpoints.Reader? r; }")]
    [InlineData("namespace SdTune.Models;\nclass M { Checkpoints.Safetensors.Header? h; }")]
    [InlineData("namespace SdTune.Models.Unet;\nclass M { Checkpoints . Reader? r; }")]
    [InlineData("namespace SdTune.Models\n{\n    using Checkpoints.Safetensors;\n}")]
    [InlineData("namespace SdTune.Models;\n/// <summary>See <see cref=\"Checkpoints.Reader\"/>.</summary>\nclass M { }")]
    [InlineData("namespace SdTune.Models;\nclass M { string s = $\"{SdTune.Checkpoints.Reader.Name}\"; }")]
    public void Finds_a_reference_in_every_form_the_compiler_resolves(string modelsCode)
    {
        var graph = Graph(modelsCode);

        var import = Assert.Single(graph.Imports, i => i.From == "Models");
        Assert.Equal("Checkpoints", import.To);
        Assert.Equal("Models/Model.cs", import.File);
        Assert.Single(ModelsBelowCheckpoints.Violations(graph.Imports));
    }

    [Theory]
    [InlineData("namespace SdTune.Models;\nclass M { string s = \"SdTune.Checkpoints.Reader\"; }")]
    [InlineData("namespace SdTune.Models;\nclass M { string s = @\"SdTune.Checkpoints.Reader \"\" x\"; }")]
    [InlineData("namespace SdTune.Models;\nclass M { string s = \"\"\"\n    SdTune.Checkpoints.Reader \"quoted\"\n    \"\"\"; }")]
    [InlineData("namespace SdTune.Models;\nclass M { string s = $\"{1} SdTune.Checkpoints.Reader\"; }")]
    [InlineData("namespace SdTune.Models;\n// uses SdTune.Checkpoints.Reader\nclass M { }")]
    [InlineData("namespace SdTune.Models;\n/* Checkpoints.Reader */ class M { }")]
    [InlineData("namespace SdTune.Models;\n/// <summary>Read by SdTune.Checkpoints.Reader.</summary>\nclass M { }")]
    [InlineData("namespace SdTune.Models;\nclass M { int Checkpoints; int n = this.Checkpoints.Reader; }")]
    [InlineData("namespace SdTune.Models;\nclass M { object Checkpoints = 1; string s = Checkpoints.ToString(); }")]
    [InlineData("namespace SdTune.Models;\nclass M { char q = '\"'; string s = \"SdTune.Checkpoints\"; }")]
    public void Ignores_text_that_only_mentions_a_folder(string modelsCode)
    {
        var graph = Graph(modelsCode);

        Assert.DoesNotContain(graph.Imports, i => i.From == "Models");
    }

    [Fact]
    public void A_global_using_counts_as_an_import_of_every_folder()
    {
        var graph = Graph("global using SdTune.Models;\nnamespace SdTune.Models;");

        Assert.Contains(graph.Imports, i => i is { From: "Checkpoints", To: "Models" });
        Assert.Empty(ModelsBelowCheckpoints.Violations(graph.Imports));
    }

    [Fact]
    public void A_global_using_of_an_upper_folder_in_the_project_file_is_a_violation()
    {
        var graph = Graph("namespace SdTune.Models;", "<Project><ItemGroup><Using Include=\"SdTune.Checkpoints.Safetensors\" /></ItemGroup></Project>");

        var violation = Assert.Single(ModelsBelowCheckpoints.Violations(graph.Imports));
        Assert.Equal(("Models", "Checkpoints", "project file"), (violation.From, violation.To, violation.File));
    }

    [Fact]
    public void Downward_imports_are_allowed_and_imports_within_one_layer_are_not()
    {
        var graph = FolderImportGraph.FromSources(
            [
                new SourceFile("Models", "Models/Model.cs", "namespace SdTune.Models;\nclass Model { }"),
                new SourceFile("Checkpoints", "Checkpoints/Reader.cs", "using SdTune.Models;\nnamespace SdTune.Checkpoints;"),
            ],
            []);

        Assert.Empty(ModelsBelowCheckpoints.Violations(graph.Imports));
        Assert.Single(new LayerOrder([["Models", "Checkpoints"]]).Violations(graph.Imports));
        Assert.Single(new LayerOrder([["Models"]]).Violations(graph.Imports));
    }

    [Fact]
    public void A_file_outside_its_folders_namespace_is_reported()
    {
        var graph = FolderImportGraph.FromSources([new SourceFile("Models", "Models/Loader.cs", "namespace SdTune.Checkpoints;")], []);

        Assert.Equal("Models/Loader.cs: namespace SdTune.Checkpoints", Assert.Single(graph.MisplacedFiles));
    }

    [Fact]
    public void The_layer_order_is_read_from_the_markdown_diagram_top_first()
    {
        const string markdown = "# Title\n\n## Layers\n\n```\nTraining\n   |\nModels  Text\n```\n\nThe rest.\n";

        var order = LayerOrder.FromMarkdown(markdown);

        Assert.Equal("Models Text | Training", string.Join(" | ", order.Layers.Select(layer => string.Join(" ", layer))));
        Assert.Throws<FormatException>(() => LayerOrder.FromMarkdown("# Title\n\nNo layers here.\n"));
    }
}
