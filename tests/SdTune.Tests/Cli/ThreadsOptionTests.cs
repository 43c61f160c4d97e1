using SdTune.Cli.Commands;
using SdTune.Runtime;
using SdTune.ToyWorld;
using SdTune.ToyWorld.Benchmark;

namespace SdTune.Tests.Cli;

/// <summary>
/// <c>--threads N</c>: every command accepts it, before or after the command's name; it sets libtorch's thread count
/// before the command runs, a bad value is one error line and exit code 2, and without it the count is left alone.
/// (The tests restore the count; test classes do not run in parallel.)
/// </summary>
public class ThreadsOptionTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_thread_count_is_applied_before_the_command_runs(bool beforeTheCommand)
    {
        var previous = TorchThreads.Current;
        var wanted = previous == 1 ? 2 : 1;
        try
        {
            var fixture = TestPaths.Fixture("vae_tiny.safetensors");
            string[] args = beforeTheCommand ? ["--threads", $"{wanted}", "inspect", fixture, "--json"] : ["inspect", fixture, "--json", "--threads", $"{wanted}"];
            var (code, _, error) = InspectCommandTests.Run(args);
            Assert.Equal((0, ""), (code, error));
            Assert.Equal(wanted, TorchThreads.Current);
        }
        finally
        {
            TorchThreads.Set(previous);
        }
    }

    [Fact]
    public void Without_the_option_the_thread_count_is_left_as_it_is()
    {
        using (TorchThreads.Use(3))
        {
            var (code, _, _) = InspectCommandTests.Run("inspect", TestPaths.Fixture("vae_tiny.safetensors"), "--json");
            Assert.Equal(0, code);
            Assert.Equal(3, TorchThreads.Current);
        }
    }

    [Theory]
    [InlineData("--threads: 0 is out of range; expected an integer from 1 to 1024.", "inspect", "x", "--threads", "0")]
    [InlineData("--threads: 1025 is out of range; expected an integer from 1 to 1024.", "--threads", "1025", "inspect", "x")]
    [InlineData("--threads: -4 is out of range; expected an integer from 1 to 1024.", "generate", "--model", "m", "--prompt", "p", "--threads", "-4")]
    [InlineData("--threads: 99999999999 is out of range; expected an integer from 1 to 1024.", "bench", "methods", "--threads", "99999999999")]
    [InlineData("--threads: 'two' is not an integer.", "train", "lora", "--threads", "two")]
    [InlineData("--threads: '1.5' is not an integer.", "toyworld", "evaluate", "--model", "m", "--threads", "1.5")]
    [InlineData("--threads needs a value", "quickstart", "--threads")]
    public void A_bad_thread_count_is_one_error_line_with_exit_code_2(string expected, params string[] args)
    {
        var previous = TorchThreads.Current;
        var (code, output, error) = InspectCommandTests.Run(args);
        Assert.Equal((2, "", $"error: {expected}"), (code, output, error.TrimEnd('\n')));
        Assert.Equal(previous, TorchThreads.Current);
    }

    [Fact]
    public void The_library_refuses_a_count_out_of_range_and_Use_restores_the_count_before()
    {
        var previous = TorchThreads.Current;
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchThreads.Set(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => TorchThreads.Set(TorchThreads.Max + 1));
        using (TorchThreads.Use(previous == 1 ? 2 : 1))
        {
            Assert.NotEqual(previous, TorchThreads.Current);
        }

        Assert.Equal(previous, TorchThreads.Current);
    }

    [Fact]
    public void The_benchmark_report_header_names_the_thread_count_in_use()
    {
        var options = new BenchmarkOptions
        {
            BaseModel = "base",
            Spec = BenchmarkSpec.Load(Path.Combine(TestPaths.RepositoryRoot, "toyworld", "benchmark.toml")),
            OutputDirectory = "out",
        };
        using (TorchThreads.Use(1))
        {
            Assert.Contains("batch 5; 1 CPU thread; evaluation:", HeaderLine(MethodBenchmark.Report(options, "table", TimeSpan.FromMinutes(1))), StringComparison.Ordinal);
        }

        using (TorchThreads.Use(3))
        {
            Assert.Contains("batch 5; 3 CPU threads; evaluation:", HeaderLine(MethodBenchmark.Report(options, "table", TimeSpan.FromMinutes(1))), StringComparison.Ordinal);
        }
    }

    private static string HeaderLine(string report) => Assert.Single(report.Split('\n'), l => l.StartsWith("Base model: ", StringComparison.Ordinal));
}
