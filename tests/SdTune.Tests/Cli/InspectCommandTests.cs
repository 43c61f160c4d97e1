using System.Text.Json;

namespace SdTune.Tests.Cli;

public class InspectCommandTests
{
    /// <summary>Runs the CLI entry point in-process and captures what it prints.</summary>
    internal static (int ExitCode, string Out, string Error) Run(params string[] args)
    {
        var originalOut = Console.Out;
        var originalError = Console.Error;
        using var output = new StringWriter();
        using var error = new StringWriter();
        Console.SetOut(output);
        Console.SetError(error);
        try
        {
            var code = SdTune.Cli.SdTuneCli.Run(args);
            return (code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(originalOut);
            Console.SetError(originalError);
        }
    }

    [Fact]
    public void Inspect_json_describes_a_file()
    {
        var (code, output, _) = Run("inspect", TestPaths.Fixture("vae_tiny.safetensors"), "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(output);
        Assert.Equal("Vae", json.RootElement.GetProperty("kind").GetString());
        Assert.Equal("safetensors", json.RootElement.GetProperty("format").GetString());
        Assert.True(json.RootElement.GetProperty("tensor_count").GetInt64() > 0);
        Assert.True(json.RootElement.GetProperty("dtypes").GetProperty("F32").GetInt32() > 0);
    }

    [Fact]
    public void Inspect_errors_name_the_file_and_exit_non_zero()
    {
        using var dir = TestPaths.NewTempDir();
        var bad = dir.File("broken.safetensors");
        File.WriteAllBytes(bad, [200, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'x']);
        var (code, _, error) = Run("inspect", bad);
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", error, StringComparison.Ordinal);
        Assert.Contains("broken.safetensors", error, StringComparison.Ordinal);

        var (missingCode, _, missingError) = Run("inspect", dir.File("nothing-here.ckpt"));
        Assert.Equal(2, missingCode);
        Assert.Contains("nothing-here.ckpt", missingError, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_command_or_missing_argument_fails()
    {
        Assert.NotEqual(0, Run("inspect").ExitCode);
        Assert.NotEqual(0, Run("no-such-command").ExitCode);
    }
}
