using SdTune.Checkpoints.Safetensors;
using SdTune.Tests.Checkpoints.Pickle;
using SdTune.Tests.Checkpoints.Safetensors;
using static TorchSharp.torch;

namespace SdTune.Tests.Cli;

/// <summary>
/// Hostile and malformed weight files given to the command line: one <c>error:</c> line that names the file and what
/// is wrong (the refused Python global, for a pickle that tries to run code) and exit code 2, never a stack trace;
/// bad files in an embeddings folder are skipped with a warning while the images are made.
/// </summary>
public class HostileFileCommandTests
{
    private static string[] Generate(string model, string output, params string[] extra) =>
        ["generate", "--model", model, "--prompt", "a red circle", "--steps", "1", "--width", "32", "--height", "32", "--seed", "1", "--out", output, .. extra];

    private static void AssertOneErrorLine(string error, string path, string expected)
    {
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.StartsWith("error: " + path + ": ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("evil_p0.pt", "--lora")] // protocol 0: text, no signature
    [InlineData("evil_p2.pt", "--lora")]
    [InlineData("evil_p0.pt", "--model")]
    public void Generate_with_a_file_that_runs_code_names_the_refused_global(string fixture, string option)
    {
        using var dir = TestPaths.NewTempDir();
        var evil = dir.File("evil.ckpt");
        File.Copy(PickleFixtures.Protocol(fixture), evil);
        var model = option == "--model" ? evil : GenerateCommandTests.TinyPipelineFolder(dir);
        string[] extra = option == "--lora" ? ["--lora", evil] : [];
        var (code, _, error) = InspectCommandTests.Run(Generate(model, dir.File("out"), extra));
        Assert.Equal(2, code);
        AssertOneErrorLine(error, evil, "refused to load global 'posix.system'");
        Assert.False(Directory.Exists(dir.File("out")) && Directory.EnumerateFiles(dir.File("out")).Any());
    }

    [Fact]
    public void Inspect_of_a_protocol_0_pickle_that_runs_code_names_the_refused_global()
    {
        var path = PickleFixtures.Protocol("evil_p0.pt");
        var (code, _, error) = InspectCommandTests.Run("inspect", path);
        Assert.Equal(2, code);
        AssertOneErrorLine(error, path, "'posix.system'");
    }

    [Fact]
    public void Generate_skips_bad_embeddings_with_a_warning_and_makes_the_images()
    {
        using var dir = TestPaths.NewTempDir();
        var model = GenerateCommandTests.TinyPipelineFolder(dir);
        var embeddings = Directory.CreateDirectory(dir.File("embeddings")).FullName;
        var surrogate = SafetensorsTestFiles.Write(dir, """{"__metadata__":{"name":"\udc80"},"emb_params":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 4, name: "embeddings/surrogate.safetensors");
        var trailing = SafetensorsTestFiles.Write(dir, """{"emb_params":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}x""", 4, name: "embeddings/trailing.safetensors");
        var evil = Path.Combine(embeddings, "evil.pt");
        File.Copy(PickleFixtures.Protocol("evil_p0.pt"), evil);
        var empty = Path.Combine(embeddings, "empty.safetensors");
        using (var none = zeros(0, 32))
        {
            SafetensorsWriter.Save(empty, [new("emb_params", none)]);
        }

        var output = dir.File("out");
        var (code, stdout, error) = InspectCommandTests.Run(Generate(model, output, "--embeddings", embeddings));
        Assert.True(code == 0, error);
        Assert.Contains("00000-1.png", stdout, StringComparison.Ordinal);
        Assert.Contains($"warning: skipping embedding {surrogate}: ", error, StringComparison.Ordinal);
        Assert.Contains("lone UTF-16 surrogate", error, StringComparison.Ordinal);
        Assert.Contains($"warning: skipping embedding {trailing}: ", error, StringComparison.Ordinal);
        Assert.Contains($"warning: skipping embedding {evil}: ", error, StringComparison.Ordinal);
        Assert.Contains("'posix.system'", error, StringComparison.Ordinal);
        Assert.Contains($"warning: skipping embedding {empty}: ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }
}
