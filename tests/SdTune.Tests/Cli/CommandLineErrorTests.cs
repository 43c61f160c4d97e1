namespace SdTune.Tests.Cli;

/// <summary>Every command-line mistake is one <c>error:</c> line on standard error and exit code 2; help stays help.</summary>
public class CommandLineErrorTests
{
    [Theory]
    [InlineData("--seed: 'abc' is not a whole number", "generate", "--model", "m", "--prompt", "p", "--seed", "abc")]
    [InlineData("--steps: '99999999999' is not a whole number from -2147483648 to 2147483647", "generate", "--model", "m", "--prompt", "p", "--steps", "99999999999")]
    [InlineData("--cfg: 'high' is not a number", "generate", "--model", "m", "--prompt", "p", "--cfg", "high")]
    [InlineData("--seed needs a value", "generate", "--model", "m", "--prompt", "p", "--seed")]
    [InlineData("sdtune generate needs --model (see sdtune generate --help)", "generate", "--prompt", "p")]
    [InlineData("sdtune toyworld evaluate needs --model (see sdtune toyworld evaluate --help)", "toyworld", "evaluate")]
    [InlineData("sdtune: unknown command 'frobnicate'; commands: inspect, generate, preprocess, train, lora, merge, toyworld, bench, quickstart, studio, worker", "frobnicate")]
    [InlineData("sdtune bench needs a command: methods, tune, control (see sdtune bench --help)", "bench")]
    [InlineData("sdtune inspect needs PATH (see sdtune inspect --help)", "inspect")]
    [InlineData("sdtune inspect: unknown option '--bogus' (see sdtune inspect --help)", "inspect", "--bogus", "x")]
    [InlineData("sdtune generate: unknown option '--bogus' (see sdtune generate --help)", "generate", "--model", "m", "--prompt", "p", "--bogus")]
    [InlineData("sdtune generate: unexpected argument 'extra' (see sdtune generate --help)", "generate", "--model", "m", "--prompt", "p", "extra")]
    [InlineData("sdtune train lora: unknown option '--netwrok-dim' (see sdtune train lora --help)", "train", "lora", "--netwrok-dim", "8")]
    public void Command_line_mistakes_are_one_error_line_with_exit_code_2(string expected, params string[] args)
    {
        var (code, output, error) = InspectCommandTests.Run(args);
        Assert.Equal((2, "", $"error: {expected}"), (code, output, error.TrimEnd('\n')));
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("generate", "--help")]
    [InlineData("train", "lora", "-h")]
    [InlineData]
    public void Help_and_no_arguments_print_the_help(params string[] args)
    {
        var (code, output, error) = InspectCommandTests.Run(args);
        Assert.Equal((0, ""), (code, error));
        Assert.Contains("Usage:", output, StringComparison.Ordinal);
    }

    [Fact]
    public void The_help_lists_every_command_with_a_one_line_description()
    {
        var output = InspectCommandTests.Run("--help").Out;
        var commands = output[output.IndexOf("Commands:", StringComparison.Ordinal)..].Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)[1..];
        Assert.Equal(["inspect", "generate", "preprocess", "train", "lora", "merge", "toyworld", "bench", "quickstart", "studio", "worker"], commands.Select(c => c.Split(' ')[0]));
        Assert.All(commands, c => Assert.Matches(@"^\S+( <[^>]+>)*\s{2,}\S.*\.$", c));
    }

    [Fact]
    public void Argument_errors_of_the_library_lose_dotnet_parameter_decorations()
    {
        using var dir = TestPaths.NewTempDir();
        var model = GenerateCommandTests.TinyPipelineFolder(dir);

        // Out of the text encoder's range: one line naming the option, with no .NET " (Parameter 'clipSkip')" tail or
        // "Actual value was 9." line.
        var clipSkip = InspectCommandTests.Run("generate", "--model", model, "--prompt", "x", "--width", "32", "--height", "32", "--steps", "1", "--clip-skip", "9", "--out", dir.Path);
        Assert.Equal(2, clipSkip.ExitCode);
        Assert.Matches(@"^error: --clip-skip: 9 is out of range[^\n]*\n$", clipSkip.Error.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("(Parameter", clipSkip.Error, StringComparison.Ordinal);

        // ArgumentException with a parameter name.
        var method = InspectCommandTests.Run("bench", "methods", "--methods", "lora,nope", "--out", dir.Path);
        Assert.Equal(2, method.ExitCode);
        Assert.Equal("error: Unknown benchmark method 'nope'; known: lora, locon, loha, lokr, adalora, dreambooth, dreambooth-prior, custom-diffusion, textual-inversion, pivotal, hypernetwork.", method.Error.TrimEnd('\n'));
    }

    [Fact]
    public void Exception_messages_lose_the_parameter_tail_and_the_actual_value_line()
    {
        var outOfRange = new ArgumentOutOfRangeException("clipSkip", 9, "Clip skip must be between 1 and 3.");
        Assert.Equal("Clip skip must be between 1 and 3.", SdTune.Cli.Errors.ExceptionMessage.OneLine(outOfRange));
        var argument = new ArgumentException("Unknown method 'nope'.", "methods");
        Assert.Equal("Unknown method 'nope'.", SdTune.Cli.Errors.ExceptionMessage.OneLine(argument));
    }
}
