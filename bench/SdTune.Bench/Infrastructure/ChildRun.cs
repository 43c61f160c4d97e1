using System.Diagnostics;
using System.Globalization;

namespace SdTune.Bench.Infrastructure;

/// <summary>
/// Runs one measurement in a fresh child process of this benchmark, so its peak memory is its own. The child
/// prints one line <c>RESULT seconds peak_bytes</c>.
/// </summary>
internal static class ChildRun
{
    public const string Marker = "RESULT";

    /// <summary>Runs <c>bench child NAME ARGS...</c> and returns (seconds, peak resident bytes).</summary>
    public static (double Seconds, long PeakBytes) Measure(string name, params string[] args)
    {
        var self = Environment.ProcessPath ?? throw new InvalidOperationException("Cannot find the benchmark executable.");
        var start = new ProcessStartInfo(self) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            start.ArgumentList.Add(typeof(ChildRun).Assembly.Location);
        }

        start.ArgumentList.Add("child");
        start.ArgumentList.Add(name);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Cannot start the child process.");
        var stdout = process.StandardOutput.ReadToEnd();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        var line = stdout.Split('\n').FirstOrDefault(l => l.StartsWith(Marker, StringComparison.Ordinal));
        if (process.ExitCode != 0 || line is null)
        {
            throw new InvalidOperationException($"child '{name}' failed (exit {process.ExitCode}):\n{stdout}\n{stderr}");
        }

        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (double.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    /// <summary>What a child prints at the end.</summary>
    public static void Report(double seconds, long peakBytes) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Marker} {seconds:R} {peakBytes}"));
}
