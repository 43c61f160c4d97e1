using System.CommandLine;
using SdTune.Checkpoints;

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

    private static bool IsInputError(Exception e) => e is CheckpointFormatException or FileNotFoundException
        or DirectoryNotFoundException or InvalidDataException or UnauthorizedAccessException or ArgumentException or FormatException
        or Training.TrainingConfigException or Training.Data.DatasetConfigException or Training.Data.DatasetException or Training.TrainingDivergedException;
}
