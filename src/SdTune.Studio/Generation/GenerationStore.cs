using System.Text.Json.Nodes;
using SdTune.IO;
using SdTune.Studio.Jobs;

namespace SdTune.Studio.Generation;

/// <summary>
/// The queued generations' folders under <c>generations/</c>: <c>request.json</c> (the body of
/// <c>POST /api/generations</c>, as <c>POST /api/generate</c> takes it) and <c>status.json</c> (the
/// <see cref="GenerationStatus"/>, replaced atomically on every write).
/// </summary>
public sealed class GenerationStore(StudioHome home)
{
    /// <summary>The status file's name.</summary>
    public const string StatusFile = "status.json";

    /// <summary>The request file's name.</summary>
    public const string RequestFile = "request.json";

    private readonly JobFolders<GenerationStatus> folders = new(home.Generations, StatusFile, g => (g.Id, g.CreatedAt), g => g with { UpdatedAt = DateTimeOffset.UtcNow });

    /// <summary>The job's folder.</summary>
    public string Folder(string id) => folders.Folder(id);

    /// <summary>The job's status, or null when there is no such job.</summary>
    public GenerationStatus? Read(string id) => folders.Read(id);

    /// <summary>Every queued generation, newest first.</summary>
    public IReadOnlyList<GenerationStatus> All() => folders.All();

    /// <summary>Takes the job for this worker (see <see cref="JobFolders{TStatus}.Take"/>); null when another worker has it or it is finished.</summary>
    internal (GenerationStatus Status, RunLock Lock)? Take(string id) => folders.Take(id, s => s.State == JobState.Completed);

    /// <summary>Writes the job's status atomically.</summary>
    public void Write(GenerationStatus status) => folders.Write(status);

    /// <summary>A new queued job for a checked request: its folder with <c>request.json</c> and a queued status.</summary>
    public GenerationStatus Create(JsonObject request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var status = new GenerationStatus
        {
            Id = JobIds.New(),
            State = JobState.Queued,
            CreatedAt = DateTimeOffset.UtcNow,
            Prompt = request["prompt"]?.GetValue<string>() ?? "",
        };
        Directory.CreateDirectory(Folder(status.Id));
        AtomicFile.WriteAllText(Path.Combine(Folder(status.Id), RequestFile), request.ToJsonString());
        Write(status);
        return status;
    }

    /// <summary>The job's request.</summary>
    public JsonNode? Request(string id) => JsonNode.Parse(File.ReadAllText(Path.Combine(Folder(id), RequestFile)));
}
