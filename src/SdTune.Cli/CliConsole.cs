using Spectre.Console;

namespace SdTune.Cli;

/// <summary>Spectre consoles bound to the current standard streams (created per command, never cached).</summary>
internal static class CliConsole
{
    /// <summary>Tables and reports: standard output.</summary>
    public static IAnsiConsole Out() => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });

    /// <summary>Progress bars and status: standard error, so standard output stays machine-readable.</summary>
    public static IAnsiConsole Error() => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
}
