using System.CommandLine;

namespace SdTune.Cli;

/// <summary>Runs the parsed command and turns expected failures into one clear line and a non-zero exit code.</summary>
internal static class CliRunner
{
    /// <summary>Exit code for bad input (files, options, configs).</summary>
    public const int InputError = 2;

    public static int Run(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsInputError(e))
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return InputError;
        }
    }

    // IOException covers missing files and folders, corrupt checkpoints, images and datasets: all name the file.
    private static bool IsInputError(Exception e) => e is IOException or UnauthorizedAccessException or ArgumentException or FormatException
        or Training.TrainingConfigException or Training.Data.DatasetConfigException or Training.TrainingDivergedException;
}
