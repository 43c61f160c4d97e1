using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using SdTune.IO;
using SdTune.Studio.Generation;

namespace SdTune.Studio.Jobs;

/// <summary>
/// The bookkeeping every kind of queued job shares: one folder per job under <see cref="Root"/>, named by its id, whose
/// status file (<typeparamref name="TStatus"/> as JSON) is replaced atomically on every write, so a reader, on this
/// machine or another sharing the folder, never sees half a file.
/// </summary>
/// <typeparam name="TStatus">The job's status record.</typeparam>
/// <param name="root">The folder holding the job folders (created when missing).</param>
/// <param name="statusFile">The status file's name in a job folder.</param>
/// <param name="describe">A status's id and creation time (for <see cref="All"/>'s order).</param>
/// <param name="stamp">The status as written now (sets its update time).</param>
public sealed class JobFolders<TStatus>(string root, string statusFile, Func<TStatus, (string Id, DateTimeOffset CreatedAt)> describe, Func<TStatus, TStatus> stamp)
    where TStatus : class
{
    /// <summary>The folder holding the job folders.</summary>
    public string Root { get; } = root;

    /// <summary>The job's folder.</summary>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not a job id.</exception>
    public string Folder(string id) =>
        JobIds.IsValid(id) ? Path.Combine(Root, id) : throw new ArgumentException($"'{id}' is not a job id.", nameof(id));

    /// <summary>True when the job exists.</summary>
    public bool Exists(string id) => JobIds.IsValid(id) && File.Exists(Path.Combine(Folder(id), statusFile));

    /// <summary>The job's status, or null when there is no such job.</summary>
    public TStatus? Read(string id)
    {
        if (!JobIds.IsValid(id))
        {
            return null;
        }

        var path = Path.Combine(Folder(id), statusFile);
        try
        {
            return File.Exists(path) ? JsonSerializer.Deserialize<TStatus>(File.ReadAllText(path), StudioJson.Options) : null;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Every job, newest first.</summary>
    public IReadOnlyList<TStatus> All() =>
        !Directory.Exists(Root) ? [] :
        [.. Directory.EnumerateDirectories(Root).Select(Path.GetFileName).Select(id => Read(id!)).OfType<TStatus>()
            .OrderByDescending(s => describe(s).CreatedAt).ThenByDescending(s => describe(s).Id, StringComparer.Ordinal)];

    /// <summary>The job's PNG <paramref name="name"/> (a plain file name directly in its folder), or null when there is none.</summary>
    public string? Png(string id, string name) =>
        Exists(id) && StudioGenerator.IsImageName(name) && Path.Combine(Folder(id), name) is var path && File.Exists(path) ? path : null;

    /// <summary>
    /// Takes the job for this worker: its folder's lock (held until disposed; the system frees it when the worker dies)
    /// and its status as read under the lock. Null when another worker holds the lock (the queue handed the job out again
    /// while it runs) or when an earlier attempt already finished it (<paramref name="finished"/>; that worker died before
    /// the queue heard of it).
    /// </summary>
    /// <exception cref="InvalidOperationException">There is no such job.</exception>
    internal (TStatus Status, RunLock Lock)? Take(string id, Func<TStatus, bool> finished)
    {
        var status = Read(id) ?? throw new InvalidOperationException($"job {id}: no such job.");
        var jobLock = RunLock.TryTake(Folder(id));
        if (jobLock is null)
        {
            return null;
        }

        status = Read(id) ?? status;
        if (finished(status))
        {
            jobLock.Dispose();
            return null;
        }

        return (status, jobLock);
    }

    /// <summary>Writes the job's status atomically (its folder is created when missing).</summary>
    public void Write(TStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        AtomicFile.WriteAllText(Path.Combine(Folder(describe(status).Id), statusFile), JsonSerializer.Serialize(stamp(status), StudioJson.Options));
    }
}

/// <summary>The ids of jobs (runs, benchmarks, grids): the UTC time and 6 random hex digits, a plain folder name.</summary>
public static partial class JobIds
{
    /// <summary>A new id.</summary>
    public static string New() =>
        DateTimeOffset.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));

    /// <summary>True when <paramref name="id"/> has the form of a job id (so it names a folder directly under its root).</summary>
    public static bool IsValid(string id) => id is not null && IdPattern().IsMatch(id);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex IdPattern();
}
