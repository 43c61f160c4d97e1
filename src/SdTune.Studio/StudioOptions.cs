using System.Net;

namespace SdTune.Studio;

/// <summary>How <c>sdtune studio</c> and <c>sdtune worker</c> run.</summary>
public sealed record StudioOptions
{
    /// <summary>The studio's folder (runs, storage, models, loras, datasets).</summary>
    public required string Home { get; init; }

    /// <summary>The embedded toy base model, offered as the model <c>toy</c>; null when there is none.</summary>
    public string? ToyModel { get; init; }

    /// <summary>The concept benchmark's spec (a TOML file) that benchmark jobs run on the toy base model; null when there is none.</summary>
    public string? BenchmarkSpec { get; init; }

    /// <summary>The address to listen on; the loopback address by default.</summary>
    public IPAddress Listen { get; init; } = IPAddress.Loopback;

    /// <summary>The port; 0 picks a free one.</summary>
    public int Port { get; init; }

    /// <summary>The access token; a new random one when null.</summary>
    public AccessToken? Token { get; init; }

    /// <summary>
    /// The job queue's storage: a PostgreSQL connection string (<c>Host=...;Port=...;Username=...;Database=...</c>) or a
    /// SQLite file; the studio folder's <c>storage/hangfire.db</c> when null.
    /// </summary>
    public string? Storage { get; init; }

    /// <summary>How often an idle worker looks for a new job.</summary>
    public TimeSpan QueuePollInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a job taken by a worker that stopped confirming it (a killed worker, a lost machine) waits before the
    /// queue gives it to another worker, which resumes the run from its latest saved state; null for the storage's
    /// default (see <see cref="QueueStorage.Open"/>).
    /// </summary>
    public TimeSpan? InvisibilityTimeout { get; init; }

    /// <summary>Run a job worker in the studio's process (one job at a time), so the studio works alone; false for a studio whose jobs only separate workers run.</summary>
    public bool Worker { get; init; } = true;
}
