using Hangfire;
using SdTune.Studio.Generation;

namespace SdTune.Studio.Jobs;

/// <summary>
/// The queue's generation job: generates a queued request (its folder's <c>request.json</c>) with the studio's
/// generator, as <c>POST /api/generate</c> does, and records the images in its status. Like the other jobs it is
/// idempotent (a completed job does nothing; another worker holding the job's lock keeps it), and a job whose worker
/// shuts down goes back to the queue.
/// </summary>
public sealed class GenerationJob(GenerationStore store, StudioGenerator generator)
{
    /// <summary>Generates the job <paramref name="id"/>.</summary>
    /// <param name="id">The job.</param>
    /// <param name="cancellationToken">Cancelled when the worker shuts down: the job goes back to the queue.</param>
    /// <exception cref="OperationCanceledException">The worker is shutting down; the queue gives the job to a worker again.</exception>
    [AutomaticRetry(Attempts = 0)]
    public void Run(string id, CancellationToken cancellationToken)
    {
        if (store.Take(id) is not { } taken)
        {
            return;
        }

        var status = taken.Status;
        using var jobLock = taken.Lock;

        status = status with { State = JobState.Running, Error = null, ErrorField = null };
        store.Write(status);
        try
        {
            var result = generator.Generate(store.Request(id), cancellationToken);
            store.Write(status with { State = JobState.Completed, Images = result.Images, Grid = result.Grid, Warnings = result.Warnings, Seconds = result.Seconds });
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            store.Write(status with { State = JobState.Queued });
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // A request checked when it was queued can still fail here: a LoRA or model removed since, a run resumed.
            store.Write(status with { State = JobState.Failed, Error = e.Message, ErrorField = (e as StudioRequestException)?.Field });
            throw;
        }
    }
}
