using System.Security.Cryptography;
using SdTune.Checkpoints;
using SdTune.Imaging;
using SdTune.Tests.Pipelines;
using SdTune.Tests.ToyWorld;

namespace SdTune.Tests.Cli;

/// <summary>
/// <c>sdtune quickstart</c> as shipped, run on a stand-in for its embedded files: the command's build folder linked
/// into a temporary folder whose <c>toyworld/</c> holds a tiny model and a one-prompt benchmark spec, so the run
/// takes seconds.
/// </summary>
public class QuickstartCommandTests
{
    /// <summary>One instance picture, one evaluation and one class prompt, one picture each.</summary>
    private const string TinySpec = "images_per_prompt = 1\n" + BenchmarkSpecTests.Minimal;

    [Fact]
    public void Writes_a_side_by_side_before_after_picture_and_no_copies()
    {
        using var dir = TestPaths.NewTempDir();
        var app = LinkedBuildWithTinyToyWorld(dir);
        var output = Path.Combine(dir.Path, "out");

        var (code, stdout, error) = CliProcess.Run("dotnet", [Path.Combine(app, "SdTune.Cli.dll"), "quickstart", "--out", output, "--steps", "2"]);

        Assert.True(code == 0, error + stdout);
        var pictures = Directory.GetFiles(output, "*.png");
        Assert.Equal(pictures.Length, pictures.Select(p => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(p)))).Distinct().Count());
        var comparison = Path.Combine(output, "before-after.png");
        Assert.Contains(comparison, stdout, StringComparison.Ordinal);

        // The base model's grid on the left, the LoRA's on the right, under a caption band.
        using var sideBySide = ImageFile.Load(comparison);
        using var before = ImageFile.Load(Path.Combine(output, "grid-base-model.png"));
        using var after = ImageFile.Load(Path.Combine(output, "grid-lora.png"));
        Assert.Equal(2 * before.Width, sideBySide.Width);
        var top = sideBySide.Height - before.Height;
        Assert.True(top > 0, "no caption band");
        for (var y = 0; y < before.Height; y += 2)
        {
            for (var x = 0; x < before.Width; x += 2)
            {
                Assert.Equal(before.GetPixel(x, y), sideBySide.GetPixel(x, top + y));
                Assert.Equal(after.GetPixel(x, y), sideBySide.GetPixel(before.Width + x, top + y));
            }
        }
    }

    /// <summary>A folder that holds the command's build folder (linked) except its toy world, which is tiny.</summary>
    private static string LinkedBuildWithTinyToyWorld(TempDir dir)
    {
        var app = Path.Combine(dir.Path, "app");
        Directory.CreateDirectory(app);
        foreach (var entry in Directory.EnumerateFileSystemEntries(AppContext.BaseDirectory))
        {
            var name = Path.GetFileName(entry);
            if (name == "toyworld")
            {
                continue;
            }

            // The command's own files are copied: the host takes the application folder from the real path of its dll.
            var link = Path.Combine(app, name);
            if (name.StartsWith("SdTune.Cli.", StringComparison.Ordinal))
            {
                File.Copy(entry, link);
            }
            else if (Directory.Exists(entry))
            {
                Directory.CreateSymbolicLink(link, entry);
            }
            else
            {
                File.CreateSymbolicLink(link, entry);
            }
        }

        using (var model = PipelineModels.Sd1())
        {
            DiffusersPipelineFormat.Save(model, Path.Combine(app, "toyworld", "base-model"));
        }

        File.WriteAllText(Path.Combine(app, "toyworld", "benchmark.toml"), TinySpec);
        return app;
    }
}
