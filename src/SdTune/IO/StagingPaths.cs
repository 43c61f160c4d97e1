using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace SdTune.IO;

/// <summary>
/// Names of the hidden files and folders that atomic writers stage their output in, next to the target, and the sweep
/// that clears those a killed process left behind. Every name carries the writing process's id, so a stale one (its
/// process no longer runs) is told apart from one a running process is still writing:
/// <list type="bullet">
/// <item><c>.NAME.PID.GUID.tmp</c> — a file being written; stale ones are deleted.</item>
/// <item><c>.NAME.tmp-PID-GUID</c> — a folder being assembled; stale ones are deleted.</item>
/// <item><c>.NAME.old-PID-GUID</c> — the previous folder, moved aside while the new one moves in; a stale one is put
/// back when NAME is missing (the process died between the two moves) and deleted otherwise.</item>
/// </list>
/// </summary>
public static partial class StagingPaths
{
    /// <summary>A fresh temporary file name next to <paramref name="target"/>.</summary>
    public static string File(string target) => Sibling(target, name => $".{name}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

    /// <summary>A fresh staging folder name next to <paramref name="target"/>.</summary>
    public static string Folder(string target) => Sibling(target, name => $".{name}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");

    /// <summary>A fresh name for the previous <paramref name="target"/> folder while it is being replaced.</summary>
    public static string OldFolder(string target) => Sibling(target, name => $".{name}.old-{Environment.ProcessId}-{Guid.NewGuid():N}");

    /// <summary>
    /// Clears, in <paramref name="folder"/> (not below it), the staging files and folders of processes that no longer
    /// run, restoring a previous folder that a killed replacement left moved aside. Does nothing when the folder is missing.
    /// </summary>
    /// <returns>One line per entry removed or restored, for the log.</returns>
    public static IReadOnlyList<string> SweepStale(string folder)
    {
        var actions = new List<string>();
        if (!Directory.Exists(folder))
        {
            return actions;
        }

        foreach (var entry in Directory.EnumerateFileSystemEntries(folder, ".*"))
        {
            var name = Path.GetFileName(entry);
            var match = StagedName().Match(name);
            if (!match.Success || IsRunning(int.Parse(match.Groups["pid"].Value, CultureInfo.InvariantCulture)))
            {
                continue;
            }

            try
            {
                var isFile = match.Groups["file"].Success;
                var kind = match.Groups["kind"].Value;
                var target = Path.Combine(folder, match.Groups["name"].Value);
                if (kind == "old" && Directory.Exists(entry) && !Path.Exists(target))
                {
                    Directory.Move(entry, target);
                    actions.Add($"restored {target} from {name} (a replacement was interrupted)");
                }
                else if (Directory.Exists(entry) && !isFile)
                {
                    Directory.Delete(entry, recursive: true);
                    actions.Add($"removed {entry}");
                }
                else if (System.IO.File.Exists(entry) && isFile)
                {
                    System.IO.File.Delete(entry);
                    actions.Add($"removed {entry}");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                actions.Add($"could not remove {entry}: {e.Message}");
            }
        }

        return actions;
    }

    /// <summary>
    /// <see cref="SweepStale(string)"/> on <paramref name="folder"/> and on its (not hidden) subfolders, down to
    /// <paramref name="depth"/> levels: a training run's output folder holds sample and model folders of its own.
    /// </summary>
    public static IReadOnlyList<string> SweepStale(string folder, int depth)
    {
        var actions = new List<string>(SweepStale(folder));
        if (depth > 0 && Directory.Exists(folder))
        {
            foreach (var sub in Directory.EnumerateDirectories(folder).Where(d => !Path.GetFileName(d).StartsWith('.')).ToList())
            {
                actions.AddRange(SweepStale(sub, depth - 1));
            }
        }

        return actions;
    }

    private static string Sibling(string target, Func<string, string> name)
    {
        ArgumentException.ThrowIfNullOrEmpty(target);
        var full = Path.GetFullPath(target).TrimEnd(Path.DirectorySeparatorChar);
        return Path.Combine(Path.GetDirectoryName(full) ?? ".", name(Path.GetFileName(full)));
    }

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId)
        {
            return true;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^\.(?<name>.+?)(?:(?<file>\.(?<pid>\d+)\.[0-9a-f]{32}\.tmp)|\.(?<kind>tmp|old)-(?<pid>\d+)-[0-9a-f]{32})$", RegexOptions.CultureInvariant)]
    private static partial Regex StagedName();
}
