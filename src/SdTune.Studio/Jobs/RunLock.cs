namespace SdTune.Studio.Jobs;

/// <summary>
/// A job folder's <c>run.lock</c> (a run's, a benchmark's, a grid's), held open exclusively while a worker runs the job; the operating system frees it
/// when the worker's process ends, killed or not.
/// </summary>
internal sealed class RunLock : IDisposable
{
    /// <summary>The lock file's name.</summary>
    public const string FileName = "run.lock";

    private readonly FileStream stream;

    private RunLock(FileStream stream) => this.stream = stream;

    /// <summary>Takes the lock of the run folder <paramref name="folder"/>; null when another process holds it.</summary>
    public static RunLock? TryTake(string folder)
    {
        try
        {
            return new RunLock(new FileStream(Path.Combine(folder, FileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
        }
        catch (IOException) when (File.Exists(Path.Combine(folder, FileName)))
        {
            return null;
        }
    }

    public void Dispose() => stream.Dispose();
}
