using Spectre.Console;

namespace SdTune.Cli.Output;

/// <summary>
/// Shows the progress of a command's steps on standard error: a live progress bar on a terminal, occasional plain
/// lines (<see cref="PlainStepProgress"/>) when standard error goes to a file or a pipe.
/// </summary>
internal static class StepProgress
{
    /// <summary>At most one plain progress line per this interval (besides the first and the last step).</summary>
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(10);

    /// <summary>Runs <paramref name="work"/>, showing what it reports; <paramref name="title"/> describes it until the first step.</summary>
    public static T Run<T>(string title, Func<IStepProgress, T> work)
    {
        if (!CliConsole.ErrorIsTerminal)
        {
            // The last step reached is written also when the work fails, before its error line.
            var plain = new PlainStepProgress(Console.Error, TimeProvider.System, PlainInterval);
            try
            {
                return work(plain);
            }
            finally
            {
                plain.Complete();
            }
        }

        var console = CliConsole.Error();
        return console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(context => work(new Live(console, context.AddTask(Markup.Escape(title), maxValue: 1))));
    }

    /// <summary>Reports into a Spectre progress task.</summary>
    private sealed class Live(IAnsiConsole console, ProgressTask task) : IStepProgress
    {
        public void Report(long step, long total, string description)
        {
            task.MaxValue = Math.Max(total, 1);
            task.Value = step;
            task.Description = Markup.Escape(description);
        }

        public void Log(string message) => console.MarkupLine($"[yellow]{Markup.Escape(message)}[/]");
    }
}
