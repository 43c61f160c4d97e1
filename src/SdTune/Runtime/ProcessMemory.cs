using System.Globalization;

namespace SdTune.Runtime;

/// <summary>This process's resident memory, read from <c>/proc/self/status</c> (Linux; -1 elsewhere).</summary>
public static class ProcessMemory
{
    /// <summary>Peak resident set size (VmHWM) in bytes since the process started or <see cref="ResetPeak"/>; -1 where unknown.</summary>
    public static long PeakResidentBytes() => Read("VmHWM:");

    /// <summary>Current resident set size (VmRSS) in bytes; -1 where unknown.</summary>
    public static long ResidentBytes() => Read("VmRSS:");

    /// <summary>Resets the peak to the current resident size (Linux ≥ 4.0: <c>/proc/self/clear_refs</c>), so the next
    /// <see cref="PeakResidentBytes"/> covers only what follows.</summary>
    /// <returns>Whether the peak was reset.</returns>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long Read(string field)
    {
        const string status = "/proc/self/status";
        if (!File.Exists(status))
        {
            return -1;
        }

        var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
        if (line is null)
        {
            return -1;
        }

        return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
    }
}
