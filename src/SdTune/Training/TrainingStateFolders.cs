namespace SdTune.Training;

/// <summary>Finds the resumable state folders a run wrote in its output folder (see <see cref="TrainingConfig.SaveState"/>).</summary>
public static class TrainingStateFolders
{
    /// <summary>
    /// The state folder of <paramref name="outputDir"/> with the most optimizer steps done, and that step; null when
    /// the folder holds none. A folder is written whole (under a hidden temporary name, then renamed), so any one found is
    /// complete; the hidden staging folders (see <see cref="IO.StagingPaths"/>), which a killed process may leave half
    /// written, are not looked at.
    /// </summary>
    /// <param name="outputDir">A run's <c>output_dir</c>.</param>
    /// <exception cref="InvalidDataException">A state folder's counters are unreadable.</exception>
    public static (string Folder, long Step)? Latest(string outputDir)
    {
        ArgumentNullException.ThrowIfNull(outputDir);
        if (!Directory.Exists(outputDir))
        {
            return null;
        }

        (string Folder, long Step)? latest = null;
        foreach (var folder in Directory.EnumerateDirectories(outputDir).Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(folder).StartsWith('.') || !File.Exists(Path.Combine(folder, TrainingState.CountersFile)))
            {
                continue;
            }

            var step = TrainingState.Load(folder).GlobalStep;
            if (latest is null || step > latest.Value.Step)
            {
                latest = (folder, step);
            }
        }

        return latest;
    }
}
