using Hangfire;
using Hangfire.Storage.SQLite;

namespace SdTune.Studio;

/// <summary>The job queue's storage: a SQLite file (embedded; queued jobs survive a restart).</summary>
public static class QueueStorage
{
    /// <summary>
    /// How long a job a worker took may go without finishing before the queue gives it to another worker (a worker that
    /// was killed never finishes its job). The next attempt resumes from the run's latest saved state.
    /// </summary>
    public static readonly TimeSpan InvisibilityTimeout = TimeSpan.FromMinutes(30);

    /// <summary>Opens the storage named by <paramref name="storage"/>: a SQLite file path.</summary>
    /// <param name="storage">A SQLite file (created when missing).</param>
    /// <param name="pollInterval">How often an idle worker looks for a new job.</param>
    /// <exception cref="ArgumentException">The storage is not a SQLite file (PostgreSQL storage is not supported yet).</exception>
    public static JobStorage Open(string storage, TimeSpan pollInterval)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(storage);
        if (storage.Contains("Host=", StringComparison.OrdinalIgnoreCase) || storage.StartsWith("postgres", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException("--storage: PostgreSQL storage is not supported yet; give a SQLite file (for example the studio's storage/hangfire.db on a shared folder).", nameof(storage));
        }

        var path = Path.GetFullPath(storage);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return new SQLiteStorage(path, new SQLiteStorageOptions
        {
            QueuePollInterval = pollInterval,
            InvisibilityTimeout = InvisibilityTimeout,
        });
    }
}
