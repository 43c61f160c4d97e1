namespace SdTune.Tests.Cli;

/// <summary>
/// The repository's <c>./sdtune</c> script builds the command only when needed: run in a throw-away checkout layout
/// with a stand-in <c>dotnet</c> on the PATH that records whether it was asked to build or to run.
/// </summary>
public class WrapperScriptTests
{
    private const string FakeDotnet = """
        #!/usr/bin/env bash
        if [[ "$1" == build ]]; then
          echo build >> "$FAKE_LOG"
          [[ "${FAKE_BUILD_FAILS:-}" == 1 ]] && { echo "error CS0001: broken" ; exit 1; }
          out="$(dirname "$2")/bin/Release/net10.0"
          mkdir -p "$out" && touch "$out/SdTune.Cli.dll"
          exit 0
        fi
        echo run >> "$FAKE_LOG"
        echo "ran $*"
        """;

    [Fact]
    public void Builds_on_first_use_and_after_changes_and_otherwise_runs_the_built_command_directly()
    {
        using var dir = TestPaths.NewTempDir();
        var checkout = Checkout(dir);
        var source = Path.Combine(checkout, "src", "SdTune", "Model.cs");

        Assert.Equal("build run", Run(dir, checkout).Log);
        var (code, output, _, log) = Run(dir, checkout, "--help");
        Assert.Equal((0, "run"), (code, log));
        Assert.EndsWith("SdTune.Cli.dll --help", output.Trim(), StringComparison.Ordinal);

        File.SetLastWriteTimeUtc(source, File.GetLastWriteTimeUtc(source).AddSeconds(5));
        Assert.Equal("build run", Run(dir, checkout).Log);
        Assert.Equal("run", Run(dir, checkout).Log);

        File.WriteAllText(Path.Combine(checkout, "toyworld", "base-model", "new.json"), "{}");
        Assert.Equal("build run", Run(dir, checkout).Log);

        File.Delete(Path.Combine(checkout, "src", "SdTune", "Old.cs"));
        Assert.Equal("build run", Run(dir, checkout).Log);

        File.SetLastWriteTimeUtc(Path.Combine(checkout, "Directory.Build.props"), DateTime.UtcNow.AddSeconds(10));
        Assert.Equal("build run", Run(dir, checkout).Log);

        // Build outputs and other folders are not inputs.
        File.WriteAllText(Path.Combine(checkout, "src", "SdTune", "obj", "cache.txt"), "x");
        File.WriteAllText(Path.Combine(checkout, "README.md"), "changed");
        Assert.Equal("run", Run(dir, checkout).Log);
    }

    [Fact]
    public void A_failed_build_prints_its_log_and_is_tried_again_next_time()
    {
        using var dir = TestPaths.NewTempDir();
        var checkout = Checkout(dir);
        Assert.Equal("build run", Run(dir, checkout).Log);
        File.WriteAllText(Path.Combine(checkout, "src", "SdTune", "Model.cs"), "class Broken {");

        var failed = Run(dir, checkout, environment: ("FAKE_BUILD_FAILS", "1"));
        Assert.Equal((1, "build"), (failed.ExitCode, failed.Log));
        Assert.Contains("error CS0001: broken", failed.Error, StringComparison.Ordinal);
        Assert.Equal("build run", Run(dir, checkout).Log);
    }

    private static string Checkout(TempDir dir)
    {
        var checkout = Path.Combine(dir.Path, "checkout");
        foreach (var folder in new[] { "src/SdTune/obj", "src/SdTune.Cli", "toyworld/base-model" })
        {
            Directory.CreateDirectory(Path.Combine(checkout, folder));
        }

        File.Copy(Path.Combine(TestPaths.RepositoryRoot, "sdtune"), Path.Combine(checkout, "sdtune"));
        foreach (var file in new[] { "src/SdTune/Model.cs", "src/SdTune/Old.cs", "src/SdTune.Cli/SdTune.Cli.csproj", "toyworld/base-model/model_index.json", "Directory.Build.props", "README.md" })
        {
            File.WriteAllText(Path.Combine(checkout, file), file);
        }

        var bin = Path.Combine(dir.Path, "fake-bin");
        Directory.CreateDirectory(bin);
        var dotnet = Path.Combine(bin, "dotnet");
        File.WriteAllText(dotnet, FakeDotnet.ReplaceLineEndings("\n") + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dotnet, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return checkout;
    }

    /// <summary>Runs the script; <c>Log</c> lists what it asked of <c>dotnet</c>, in order.</summary>
    private static (int ExitCode, string Out, string Error, string Log) Run(TempDir dir, string checkout, string? arg = null, (string Name, string Value)? environment = null)
    {
        var log = Path.Combine(dir.Path, "dotnet.log");
        File.Delete(log);
        var variables = new Dictionary<string, string?>
        {
            ["PATH"] = Path.Combine(dir.Path, "fake-bin") + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH"),
            ["FAKE_LOG"] = log,
        };
        if (environment is { } extra)
        {
            variables[extra.Name] = extra.Value;
        }

        var (code, output, error) = CliProcess.Run("bash", arg is null ? [Path.Combine(checkout, "sdtune")] : [Path.Combine(checkout, "sdtune"), arg], variables);
        var calls = File.Exists(log) ? string.Join(' ', File.ReadAllLines(log)) : "";
        return (code, output, error, calls);
    }
}
