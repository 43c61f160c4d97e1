using Spectre.Console;

namespace SdTune.Cli.Output;

/// <summary>
/// Spectre consoles bound to the current standard streams (created per command, never cached). On a terminal they
/// use its width, colours and live displays; when the stream is redirected to a file or a pipe they write plain
/// lines: no colours or other escape codes, no live displays, and no wrapping.
/// </summary>
internal static class CliConsole
{
    /// <summary>The line width Spectre lays text out in when not on a terminal: wide enough that no line wraps.</summary>
    private const int UnwrappedWidth = 1 << 16;

    /// <summary>Tables and reports: standard output.</summary>
    public static IAnsiConsole Out() => Create(Console.Out, !Console.IsOutputRedirected);

    /// <summary>Progress, status and messages: standard error, so standard output stays machine-readable.</summary>
    public static IAnsiConsole Error() => Create(Console.Error, ErrorIsTerminal);

    /// <summary>Whether standard error is a terminal (not redirected to a file or a pipe).</summary>
    public static bool ErrorIsTerminal => !Console.IsErrorRedirected;

    private static IAnsiConsole Create(TextWriter writer, bool terminal)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = terminal ? InteractionSupport.Detect : InteractionSupport.No,
        });
        if (!terminal)
        {
            console.Profile.Width = UnwrappedWidth;
        }

        return console;
    }
}
