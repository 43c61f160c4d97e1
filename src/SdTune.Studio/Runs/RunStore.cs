using System.Globalization;
using SdTune.Studio.Jobs;

namespace SdTune.Studio.Runs;

/// <summary>
/// The run folders under <c>runs/</c>: <c>config.toml</c> (the training configuration, paths relative to the folder),
/// <c>progress.json</c> (the <see cref="RunStatus"/>, replaced atomically on every write), <c>stop</c> (present once a
/// stop was asked for) and <c>output/</c> (the trainer's <c>output_dir</c>: outputs and state folders).
/// </summary>
public sealed class RunStore(StudioHome home)
{
    /// <summary>The training configuration's file name.</summary>
    public const string ConfigFile = "config.toml";

    /// <summary>The status file's name.</summary>
    public const string ProgressFile = "progress.json";

    /// <summary>The stop request's file name.</summary>
    public const string StopFile = "stop";

    /// <summary>The job attempts' log's file name: one line per attempt (time, worker, the step it started from).</summary>
    public const string AttemptsFile = "attempts.log";

    /// <summary>The trainer's output folder's name.</summary>
    public const string OutputFolder = "output";

    private readonly JobFolders<RunStatus> folders = new(home.Runs, ProgressFile, r => (r.Id, r.CreatedAt), r => r with { UpdatedAt = DateTimeOffset.UtcNow });

    /// <summary>The studio's folder.</summary>
    public StudioHome Home { get; } = home;

    /// <summary>A new run id: the UTC time and 6 random hex digits.</summary>
    public static string NewId() => JobIds.New();

    /// <summary>True when <paramref name="id"/> has the form of a run id (so it names a folder directly under <c>runs/</c>).</summary>
    public static bool IsValidId(string id) => JobIds.IsValid(id);

    /// <summary>The run's folder.</summary>
    public string Folder(string id) => folders.Folder(id);

    /// <summary>The run's training configuration file.</summary>
    public string ConfigPath(string id) => Path.Combine(Folder(id), ConfigFile);

    /// <summary>The run's output folder.</summary>
    public string OutputPath(string id) => Path.Combine(Folder(id), OutputFolder);

    /// <summary>The run's stop request file.</summary>
    public string StopPath(string id) => Path.Combine(Folder(id), StopFile);

    /// <summary>True when the run exists.</summary>
    public bool Exists(string id) => folders.Exists(id);

    /// <summary>The run's status, or null when there is no such run.</summary>
    public RunStatus? Read(string id) => folders.Read(id);

    /// <summary>Every run, newest first.</summary>
    public IReadOnlyList<RunStatus> All() => folders.All();

    /// <summary>Takes the job for this worker (see <see cref="JobFolders{TStatus}.Take"/>); null when another worker has it or it is finished.</summary>
    internal (RunStatus Status, RunLock Lock)? Take(string id) => folders.Take(id, s => s.State is RunState.Completed or RunState.Stopped);

    /// <summary>Writes the run's status (atomically, so a reader never sees half a file).</summary>
    public void Write(RunStatus status) => folders.Write(status);

    /// <summary>Appends a line for a job attempt that starts training the run at <paramref name="fromStep"/> (0: from the start) to its <see cref="AttemptsFile"/>.</summary>
    public void AppendAttempt(string id, long fromStep)
    {
        var line = string.Create(CultureInfo.InvariantCulture, $"{DateTimeOffset.UtcNow:O} worker={Environment.MachineName}:{Environment.ProcessId} from_step={fromStep}\n");
        File.AppendAllText(Path.Combine(Folder(id), AttemptsFile), line);
    }

    /// <summary>The steps the run's job attempts started training from, in order (see <see cref="AppendAttempt"/>).</summary>
    public IReadOnlyList<long> AttemptSteps(string id)
    {
        var path = Path.Combine(Folder(id), AttemptsFile);
        return !File.Exists(path) ? [] :
            [.. File.ReadAllLines(path).Select(l => l.Split(' ').Single(p => p.StartsWith("from_step=", StringComparison.Ordinal))).Select(p => long.Parse(p["from_step=".Length..], CultureInfo.InvariantCulture))];
    }
}
