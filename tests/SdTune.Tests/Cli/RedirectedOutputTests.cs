using System.Diagnostics;
using System.Text.RegularExpressions;
using SdTune.Tests.Training;

namespace SdTune.Tests.Cli;

/// <summary>
/// With standard output and error redirected to pipes (as to a file or another program), the command writes plain
/// lines: no escape codes, nothing wrapped, progress as a few lines that end with the last step, none repeated.
/// The command runs as its own process, so its streams really are redirected.
/// </summary>
public partial class RedirectedOutputTests
{
    [Fact]
    public void Tables_are_plain_unwrapped_lines()
    {
        using var dir = TestPaths.NewTempDir();
        var file = dir.File("a-file-name-long-enough-that-an-eighty-column-table-would-have-to-wrap-it-somewhere.safetensors");
        File.Copy(TestPaths.Fixture("vae_tiny.safetensors"), file);

        var (code, output, error) = CliProcess.Sdtune("inspect", file);

        Assert.True(code == 0, error);
        Assert.Contains(file, output, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', output);
    }

    [Fact]
    public void Training_progress_is_a_few_plain_lines_ending_with_the_last_step()
    {
        using var dir = TestPaths.NewTempDir();
        var model = GenerateCommandTests.TinyPipelineFolder(dir);
        var data = Path.Combine(dir.Path, "data");
        TrainingTestKit.Images(Path.Combine(data, "2_red circle"), 2, "a red circle");
        var clock = Stopwatch.StartNew();

        var (code, output, error) = CliProcess.Sdtune("train", "lora", "--model", model, "--train-data-dir", data, "--output-dir", Path.Combine(dir.Path, "out"),
            "--resolution", "32", "--max-train-steps", "8", "--network-dim", "2");

        Assert.True(code == 0, error);
        Assert.Contains(Path.Combine(dir.Path, "out"), output, StringComparison.Ordinal);
        AssertProgressLines(error, TrainingStep(), total: 8, clock.Elapsed);
    }

    [Fact]
    public void Generation_progress_is_a_few_plain_lines_ending_with_the_last_step()
    {
        using var dir = TestPaths.NewTempDir();
        var model = GenerateCommandTests.TinyPipelineFolder(dir);
        var clock = Stopwatch.StartNew();

        var (code, output, error) = CliProcess.Sdtune("generate", "--model", model, "--prompt", "a red circle", "--width", "32", "--height", "32",
            "--steps", "6", "--seed", "1", "--out", Path.Combine(dir.Path, "out"));

        Assert.True(code == 0, error);
        Assert.EndsWith("00000-1.png", output.Trim(), StringComparison.Ordinal);
        AssertProgressLines(error, SamplingStep(), total: 6, clock.Elapsed);
    }

    /// <summary>
    /// Progress lines name increasing steps, each once, and end with the last: a line for the first step, one per
    /// ten seconds at most, and the last step's line.
    /// </summary>
    private static void AssertProgressLines(string error, Regex stepLine, int total, TimeSpan elapsed)
    {
        Assert.DoesNotContain('\u001b', error);
        Assert.DoesNotContain('\r', error);
        var steps = error.Split('\n').Select(l => stepLine.Match(l)).Where(m => m.Success).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(steps.Count >= 2, error);
        Assert.Equal(total, steps[^1]);
        Assert.True(steps.Zip(steps.Skip(1)).All(p => p.First < p.Second), error);
        Assert.True(steps.Count <= 2 + (int)(elapsed.TotalSeconds / 10), error);
    }

    [GeneratedRegex(@"^epoch \d+/\d+ step (\d+)/8 loss \d+\.\d{4} \(avg \d+\.\d{4}\) \d+\.\d{2} it/s ETA \d\d:\d\d:\d\d$")]
    private static partial Regex TrainingStep();

    [GeneratedRegex(@"^SD1 32x32 Euler a: step (\d+)/6$")]
    private static partial Regex SamplingStep();
}
