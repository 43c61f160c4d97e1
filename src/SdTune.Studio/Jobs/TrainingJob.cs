using Hangfire;
using SdTune.Studio.Runs;
using SdTune.Training;

namespace SdTune.Studio.Jobs;

/// <summary>
/// The queue's training job: trains one run in this process with the library's <see cref="Trainer"/>, reporting progress
/// to the run folder's <c>progress.json</c> and <see cref="LossCurve"/>. When the run folder holds a saved state (from a
/// stop, an interrupted worker or an earlier attempt), the job resumes from the latest one instead of starting over, so
/// running the job again after a worker was killed continues the run. A stop request (the run folder's <c>stop</c> file)
/// ends it after the current step with a state saved. The job is idempotent: an attempt on a run that an earlier attempt
/// already finished (completed or stopped; a resume request sets the run back to queued first) does nothing, and an
/// attempt that finds the run's lock (<c>run.lock</c>, held while a worker trains it; freed by the system when that worker
/// dies) held by another worker leaves the run to it. Each attempt appends a line to the run's <c>attempts.log</c>.
/// </summary>
public sealed class TrainingJob(RunStore store)
{
    /// <summary>How often the job looks for a stop request.</summary>
    private static readonly TimeSpan StopPollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>How often progress is written at most (the last step and state changes are always written).</summary>
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Trains the run <paramref name="runId"/>.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancelled when the worker shuts down: the run stops after the current step, saves its state and goes back to the queue.</param>
    /// <exception cref="OperationCanceledException">The worker is shutting down; the queue gives the job to a worker again.</exception>
    [AutomaticRetry(Attempts = 0)]
    public void Run(string runId, CancellationToken cancellationToken)
    {
        // Null when another worker trains this run right now, or an earlier attempt finished it (completed or stopped).
        if (store.Take(runId) is not { } taken)
        {
            return;
        }

        var status = taken.Status;
        using var runLock = taken.Lock;

        if (File.Exists(store.StopPath(runId)))
        {
            store.Write(status with { State = RunState.Stopped });
            return;
        }

        status = status with { State = RunState.Running, Error = null, ErrorField = null, ResumedFromStep = null, Messages = [] };
        store.Write(status);
        var messages = new List<string>();
        try
        {
            var config = TrainingConfig.Load(store.ConfigPath(runId)) with
            {
                PretrainedModel = store.Home.Model(status.BaseModel),
                OutputDir = store.OutputPath(runId),
            };
            if (TrainingStateFolders.Latest(store.OutputPath(runId)) is { } saved)
            {
                config = config with { Resume = saved.Folder };
                status = status with { ResumedFromStep = saved.Step, Step = saved.Step };
                store.Write(status);
            }

            store.AppendAttempt(runId, status.ResumedFromStep ?? 0);

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var poll = new Timer(_ =>
            {
                if (File.Exists(store.StopPath(runId)))
                {
                    stop.Cancel();
                }
            }, null, StopPollInterval, StopPollInterval);

            var lastWrite = DateTimeOffset.MinValue;
            var losses = new List<(long, double)>();
            var result = new Trainer(config, new TrainerServices
            {
                Progress = new TrainingProgressCallback(p =>
                {
                    status = status with
                    {
                        Step = p.Step,
                        TotalSteps = p.TotalSteps,
                        Epoch = p.Epoch,
                        TotalEpochs = p.TotalEpochs,
                        Loss = p.Loss,
                        AverageLoss = p.AverageLoss,
                        ItPerSecond = p.StepsPerSecond,
                        EtaSeconds = p.Remaining.TotalSeconds,
                    };
                    losses.Add((p.Step, p.Loss));
                    if (p.Step == p.TotalSteps || DateTimeOffset.UtcNow - lastWrite >= ProgressInterval)
                    {
                        LossCurve.Append(store.Folder(runId), losses);
                        losses.Clear();
                        store.Write(status);
                        lastWrite = DateTimeOffset.UtcNow;
                    }
                }),
                Log = message =>
                {
                    messages.Add(message);
                    status = status with { Messages = [.. messages.TakeLast(50)] };
                },
                ImageGenerator = new PipelineSampleImageGenerator("Euler a"),
            }).Run(stop.Token);

            var folder = store.Folder(runId);
            LossCurve.Append(folder, losses);
            status = status with
            {
                Step = result.Steps,
                Outputs = [.. result.Outputs.Select(o => Path.GetRelativePath(folder, o).Replace('\\', '/'))],
                Messages = [.. messages.TakeLast(50)],
            };
            var finished = !stop.IsCancellationRequested || (status.TotalSteps > 0 && result.Steps >= status.TotalSteps);
            if (!finished && cancellationToken.IsCancellationRequested)
            {
                // The worker is shutting down: back to the queue; the next attempt resumes from the state just saved.
                store.Write(status with { State = RunState.Queued });
                cancellationToken.ThrowIfCancellationRequested();
            }

            store.Write(status with { State = finished ? RunState.Completed : RunState.Stopped });
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            store.Write(status with
            {
                State = RunState.Failed,
                Error = e.Message,
                ErrorField = (e as TrainingConfigException)?.Key ?? (e as StudioRequestException)?.Field,
                Messages = [.. messages.TakeLast(50)],
            });
            throw;
        }
    }
}
