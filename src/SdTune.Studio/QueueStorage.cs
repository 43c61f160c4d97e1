using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage.SQLite;

namespace SdTune.Studio;

/// <summary>
/// The job queue's storage: a SQLite file (embedded; one machine) or a PostgreSQL database (a studio and workers on
/// several machines). Queued jobs survive a restart with either.
/// </summary>
public static class QueueStorage
{
    /// <summary>
    /// The PostgreSQL default for <see cref="StudioOptions.InvisibilityTimeout"/>: how long after a killed worker's last
    /// confirmation its job goes back to the queue (a running job is confirmed continually, so its length does not matter).
    /// </summary>
    public static readonly TimeSpan DefaultPostgreSqlInvisibilityTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The SQLite default for <see cref="StudioOptions.InvisibilityTimeout"/>: SQLite storage does not confirm running
    /// jobs, so this is also the time after which a job still running is handed out again (the run's lock keeps a second
    /// worker from training it at the same time).
    /// </summary>
    public static readonly TimeSpan DefaultSqliteInvisibilityTimeout = TimeSpan.FromMinutes(30);

    /// <summary>True when <paramref name="storage"/> is a PostgreSQL connection string (<c>Host=...;Database=...</c>) rather than a SQLite file.</summary>
    public static bool IsPostgreSql(string storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        return storage.Contains("Host=", StringComparison.OrdinalIgnoreCase) || storage.Contains("Server=", StringComparison.OrdinalIgnoreCase)
            || storage.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || storage.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Opens the storage named by <paramref name="storage"/>: a PostgreSQL connection string or a SQLite file path.</summary>
    /// <param name="storage">A PostgreSQL connection string (<c>Host=...;Port=...;Username=...;Database=...</c>; the queue's tables are created when missing) or a SQLite file (created when missing).</param>
    /// <param name="pollInterval">How often an idle worker looks for a new job.</param>
    /// <param name="invisibilityTimeout">
    /// How long a job a worker took stays invisible to the other workers without that worker confirming it is still
    /// running it. With PostgreSQL a running job is confirmed continually (a sliding timeout), so a job of any length
    /// stays with its worker, and the job of a worker that was killed goes back to the queue this long after its last
    /// confirmation. SQLite has no confirmation: there it is the longest a job may run before another worker takes it too.
    /// Null: <see cref="DefaultPostgreSqlInvisibilityTimeout"/> or <see cref="DefaultSqliteInvisibilityTimeout"/>.
    /// </param>
    /// <exception cref="ArgumentException">A URL-style PostgreSQL address (give the key=value connection string).</exception>
    public static JobStorage Open(string storage, TimeSpan pollInterval, TimeSpan? invisibilityTimeout = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(storage);

        // Hangfire logs through one process-wide provider, which the ASP.NET Core integration points at a host's logger
        // factory; once that host is disposed (an earlier studio in the same process), the storage's constructor would log
        // into the disposed factory and fail. Clear it: the new host sets its own when it starts.
        Hangfire.Logging.LogProvider.SetCurrentLogProvider(null);
        if (invisibilityTimeout is { } given)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(given, TimeSpan.Zero, nameof(invisibilityTimeout));
        }

        if (IsPostgreSql(storage))
        {
            if (storage.Contains("://", StringComparison.Ordinal))
            {
                throw new ArgumentException("--storage: give PostgreSQL as a connection string, e.g. \"Host=db;Port=5432;Username=sdtune;Password=...;Database=sdtune\", not a URL.", nameof(storage));
            }

            var options = new PostgreSqlStorageOptions
            {
                QueuePollInterval = pollInterval,
                InvisibilityTimeout = invisibilityTimeout ?? DefaultPostgreSqlInvisibilityTimeout,
                UseSlidingInvisibilityTimeout = true,
                PrepareSchemaIfNecessary = true,
            };
            return new PostgreSqlStorage(new NpgsqlConnectionFactory(storage, options), options);
        }

        var path = Path.GetFullPath(storage);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return new SQLiteStorage(path, new SQLiteStorageOptions
        {
            QueuePollInterval = pollInterval,
            InvisibilityTimeout = invisibilityTimeout ?? DefaultSqliteInvisibilityTimeout,
        });
    }
}
