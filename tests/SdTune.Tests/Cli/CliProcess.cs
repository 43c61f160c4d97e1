using System.Diagnostics;

namespace SdTune.Tests.Cli;

/// <summary>Runs a program as its own process with standard output and error redirected to pipes (not a terminal).</summary>
internal static class CliProcess
{
    /// <summary>The <c>sdtune</c> command as built next to the tests.</summary>
    public static string CommandDll => Path.Combine(AppContext.BaseDirectory, "SdTune.Cli.dll");

    /// <summary>Runs <c>sdtune</c> with <paramref name="args"/> in its own process.</summary>
    public static (int ExitCode, string Out, string Error) Sdtune(params string[] args) => Run("dotnet", [CommandDll, .. args]);

    /// <summary>Runs <paramref name="program"/> and waits (at most five minutes) for it to end.</summary>
    /// <param name="program">The program.</param>
    /// <param name="args">Its arguments.</param>
    /// <param name="environment">Variables to set in its environment; a null value removes the variable.</param>
    public static (int ExitCode, string Out, string Error) Run(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Cannot start {program}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not end within five minutes.");
        }

        process.WaitForExit();
        return (process.ExitCode, output.Result, error.Result);
    }
}
