namespace SdTune.IO;

/// <summary>
/// Writes folders so that readers only ever see the old content or the complete new content: everything goes to a
/// hidden staging sibling (<see cref="StagingPaths.Folder"/>), which then replaces the target. If writing fails the
/// target is left as it was; a crash between the two renames leaves the previous content in a hidden
/// <c>.NAME.old-*</c> sibling, which the next sweep (<c>StagingPaths.SweepStale</c>) puts back.
/// </summary>
public static class AtomicFolder
{
    /// <summary>Creates or replaces <paramref name="folder"/> with what <paramref name="fill"/> writes into the staging folder it is given.</summary>
    /// <exception cref="IOException">A file is in the way of the folder.</exception>
    public static void Write(string folder, Action<string> fill)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentNullException.ThrowIfNull(fill);
        var target = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var staging = StagingPaths.Folder(target);
        try
        {
            Directory.CreateDirectory(staging);
            fill(staging);
            Swap(staging, target);
        }
        catch
        {
            TryDelete(staging);
            throw;
        }
    }

    private static void Swap(string staging, string target)
    {
        if (!Directory.Exists(target))
        {
            if (File.Exists(target))
            {
                throw new IOException($"{target}: a file is in the way of the folder.");
            }

            Directory.Move(staging, target);
            return;
        }

        var old = StagingPaths.OldFolder(target);
        Directory.Move(target, old);
        try
        {
            Directory.Move(staging, target);
        }
        catch
        {
            Directory.Move(old, target);
            throw;
        }

        TryDelete(old);
    }

    private static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
            // A leftover hidden folder is harmless (the sweep removes it); the target itself is complete.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
