namespace SdTune.Cli.Output;

/// <summary>
/// Progress as plain lines for a file or a pipe: one line for the first step, then at most one per
/// <c>interval</c>, and one for the last step; no step is written twice and nothing is redrawn.
/// </summary>
internal sealed class PlainStepProgress(TextWriter writer, TimeProvider clock, TimeSpan interval) : IStepProgress
{
    private long printedStep = -1;
    private long lastPrinted;
    private (long Step, string Description)? pending;

    /// <inheritdoc/>
    public void Report(long step, long total, string description)
    {
        var now = clock.GetTimestamp();
        if (printedStep < 0 || step >= total || clock.GetElapsedTime(lastPrinted, now) >= interval)
        {
            Print(step, description, now);
        }
        else
        {
            pending = (step, description);
        }
    }

    /// <inheritdoc/>
    public void Log(string message) => writer.WriteLine(message);

    /// <summary>Writes the last step reported if its line is still owed (the run stopped before its last step).</summary>
    public void Complete()
    {
        if (pending is { } last)
        {
            Print(last.Step, last.Description, clock.GetTimestamp());
        }
    }

    private void Print(long step, string description, long now)
    {
        pending = null;
        if (step <= printedStep)
        {
            return;
        }

        writer.WriteLine(description);
        printedStep = step;
        lastPrinted = now;
    }
}
