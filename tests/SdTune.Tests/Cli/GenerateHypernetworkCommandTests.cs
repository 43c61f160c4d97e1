using SdTune.Adapters.Formats;
using SdTune.Adapters.Hypernetworks;
using SdTune.Checkpoints.Hypernetworks;
using SdTune.Imaging;
using static TorchSharp.torch;

namespace SdTune.Tests.Cli;

/// <summary><c>sdtune generate --hypernetwork FILE[:m]</c> and <c>--hypernetwork-dir</c> with <c>&lt;hypernet:name:m&gt;</c> tags.</summary>
public class GenerateHypernetworkCommandTests
{
    [Fact]
    public void A_hypernetwork_file_changes_the_image_and_is_recorded_in_the_infotext()
    {
        using var dir = TestPaths.NewTempDir();
        var model = GenerateCommandTests.TinyPipelineFolder(dir);
        var hypernetworks = Directory.CreateDirectory(Path.Combine(dir.Path, "hn")).FullName;
        var file = Path.Combine(hypernetworks, "style.pt");
        manual_seed(4);
        using (var network = new Hypernetwork([32], new HypernetworkSettings { Activation = "tanh" }))
        {
            using (no_grad())
            {
                foreach (var p in network.parameters())
                {
                    p.mul_(50);
                }
            }

            A1111HypernetworkFormat.Save(file, network, new HypernetworkFileContents { Layers = [], Name = "style" });
        }

        byte[] Run(string output, params string[] extra)
        {
            var (code, _, stderr) = InspectCommandTests.Run(
                ["generate", "--model", model, "--prompt", "a red circle", "--steps", "2", "--seed", "5", "--width", "32", "--height", "32", "--out", output, .. extra]);
            Assert.True(code == 0, stderr);
            return File.ReadAllBytes(Directory.GetFiles(output, "*.png").Single());
        }

        var plain = Run(Path.Combine(dir.Path, "plain"));
        var withFile = Run(Path.Combine(dir.Path, "file"), "--hypernetwork", file + ":0.9");
        Assert.NotEqual(plain, withFile);
        var info = GenerationInfotext.Parse(PngText.Find(PngText.Read(Directory.GetFiles(Path.Combine(dir.Path, "file"), "*.png").Single()), "parameters")!);
        Assert.Contains(info.Extra, kv => kv.Key == "Hypernet" && kv.Value == "style");
        Assert.Contains(info.Extra, kv => kv.Key == "Hypernet strength" && kv.Value == "0.9");

        var (code, _, stderr) = InspectCommandTests.Run("generate", "--model", model, "--prompt", "a red circle <hypernet:style:0.9>", "--steps", "2", "--seed", "5",
            "--width", "32", "--height", "32", "--out", Path.Combine(dir.Path, "tag"), "--hypernetwork-dir", hypernetworks);
        Assert.True(code == 0, stderr);
        Assert.DoesNotContain("warning", stderr, StringComparison.Ordinal);

        var missing = InspectCommandTests.Run("generate", "--model", model, "--prompt", "x", "--steps", "1", "--width", "32", "--height", "32",
            "--out", dir.Path, "--hypernetwork", Path.Combine(dir.Path, "nope.pt"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("nope.pt", missing.Error, StringComparison.Ordinal);
    }
}
