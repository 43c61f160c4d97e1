using System.CommandLine;
using System.CommandLine.Invocation;
using SdTune.Cli.Errors;

namespace SdTune.Cli;

/// <summary>
/// Runs the parsed command and turns failures into one <c>error: ...</c> line on standard error and an exit code:
/// <see cref="Success"/>, <see cref="InputError"/> for bad input (a command line that does not parse, an invalid
/// option value or configuration, a missing, unreadable or corrupt file) and <see cref="Failure"/> for anything else.
/// </summary>
internal static class CliRunner
{
    /// <summary>Exit code of a command that did what was asked.</summary>
    public const int Success = 0;

    /// <summary>Exit code of a failure that is not the input's fault (an unexpected error).</summary>
    public const int Failure = 1;

    /// <summary>Exit code for bad input (command line, options, files, configs).</summary>
    public const int InputError = 2;

    /// <summary>Environment variable that, set to 1, also prints the stack trace of an unexpected error.</summary>
    public const string StackTraceVariable = "SDTUNE_STACK_TRACE";

    /// <summary>
    /// Parses <paramref name="args"/> with <paramref name="root"/>, applies SdTune's libtorch settings and then
    /// <paramref name="configure"/> (process-wide settings from global options), runs the command and returns the exit
    /// code.
    /// </summary>
    public static int Run(RootCommand root, string[] args, Action<ParseResult>? configure = null)
    {
        var parse = root.Parse(args);
        if (args.Length == 0)
        {
            // Nothing asked: say what can be asked.
            parse = root.Parse(["--help"]);
        }
        else if (parse.Action is ParseErrorAction)
        {
            Console.Error.WriteLine($"error: {ParseErrorMessage.Describe(parse)}");
            return InputError;
        }

        try
        {
            if (parse.Action is not System.CommandLine.Help.HelpAction)
            {
                Runtime.TorchRuntime.Configure();
                configure?.Invoke(parse);
            }

            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsInputError(ExceptionMessage.Unwrap(e)))
        {
            Console.Error.WriteLine($"error: {ExceptionMessage.OneLine(e)}");
            return InputError;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: {ExceptionMessage.OneLine(e)} ({ExceptionMessage.Unwrap(e).GetType().Name}; set {StackTraceVariable}=1 to see where)");
            if (Environment.GetEnvironmentVariable(StackTraceVariable) == "1")
            {
                Console.Error.WriteLine(e);
            }

            return Failure;
        }
    }

    // IOException covers missing files and folders, corrupt checkpoints, images and datasets: all name the file.
    private static bool IsInputError(Exception e) => e is IOException or UnauthorizedAccessException or ArgumentException or FormatException
        or Training.TrainingConfigException or Training.Data.DatasetConfigException or Training.TrainingDivergedException;
}
