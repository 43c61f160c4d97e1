using Hangfire;
using SdTune.Imaging;
using SdTune.Pipelines.Grids;
using SdTune.Studio.Compare;

namespace SdTune.Studio.Jobs;

/// <summary>
/// The queue's grid job: generates an X/Y grid of finished runs (<see cref="GridStore.Plan"/>) with the library's
/// <see cref="GridRunner"/> and composes it with <see cref="ComparisonGrid"/>, saving <c>grid.png</c> and each picture
/// into the job's folder atomically, with the progress (picture and step) in the status. Like
/// <see cref="TrainingJob"/> it is idempotent and safe to hand out again: an attempt on a completed job does nothing,
/// one that finds the folder's lock held leaves the job to the worker holding it, one that follows a killed worker
/// generates the grid again, and a worker shutting down puts the job back in the queue.
/// </summary>
public sealed class GridJob(GridStore store)
{
    /// <summary>How often progress is written at most (the last step of each picture is always written).</summary>
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Generates the grid job <paramref name="id"/>.</summary>
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

        status = status with { State = JobState.Running, Error = null, Cell = 0, ImageUrl = null, CellUrls = [], Warnings = [] };
        store.Write(status);
        try
        {
            var (plan, models) = store.Plan(status);
            var lastWrite = DateTimeOffset.MinValue;
            using var result = GridRunner.Run(plan, checkpoint => store.Open(checkpoint!, models), p =>
            {
                status = status with { Cell = p.Step == p.Steps ? p.Cell : p.Cell - 1, Cells = p.Cells };
                if (p.Step == p.Steps || DateTimeOffset.UtcNow - lastWrite >= ProgressInterval)
                {
                    store.Write(status);
                    lastWrite = DateTimeOffset.UtcNow;
                }
            }, cancellationToken);

            var folder = store.Folder(id);
            var cellUrls = new List<string>();
            for (var i = 0; i < plan.Cells.Count; i++)
            {
                var image = result.Images[i];
                var name = GridStore.CellFile(plan.Cells[i]);
                PngWriter.Save(Path.Combine(folder, name), image.Image, new Dictionary<string, string> { [PngText.ParametersKeyword] = image.Infotext.ToText() });
                cellUrls.Add(GridStore.FilesUrl(id) + name);
            }

            var warnings = result.Warnings.ToList();
            using (var grid = ComparisonGrid.Create([.. result.Images.Select(i => i.Image)], plan.Columns, plan.Rows, plan.ColumnLabels, plan.RowLabels, plan.PanelLabels, warnings.Add))
            {
                PngWriter.Save(Path.Combine(folder, GridStore.GridFile), grid, new Dictionary<string, string> { [PngText.ParametersKeyword] = result.Images[0].Infotext.ToText() });
            }

            store.Write(status with
            {
                State = JobState.Completed,
                Cell = plan.Cells.Count,
                Cells = plan.Cells.Count,
                ImageUrl = GridStore.FilesUrl(id) + GridStore.GridFile,
                CellUrls = cellUrls,
                Warnings = warnings,
            });
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The worker is shutting down: back to the queue; the next attempt generates the grid again.
            store.Write(status with { State = JobState.Queued });
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            store.Write(status with { State = JobState.Failed, Error = e.Message });
            throw;
        }
    }
}
