using System.Diagnostics;
using System.Text.Json;
using Hangfire;
using SdTune.IO;
using SdTune.Studio.Compare;
using SdTune.ToyWorld.Benchmark;

namespace SdTune.Studio.Jobs;

/// <summary>
/// The queue's benchmark job: runs the library's concept benchmark (<see cref="MethodBenchmark"/>) into the job's folder,
/// writing <c>report.md</c>, <c>chart.png</c>, the rows' grids and <c>results.json</c>, with its progress lines in the
/// status. Like <see cref="TrainingJob"/> it is idempotent and safe to hand out again: an attempt on a completed job
/// does nothing, one that finds the folder's lock held leaves the job to the worker holding it, and one that follows
/// a killed worker runs the benchmark again from the start (the benchmark replaces what it finds in its folder).
/// </summary>
public sealed class BenchmarkJob(BenchmarkStore store)
{
    /// <summary>How many progress lines the status keeps.</summary>
    private const int KeptMessages = 50;

    /// <summary>Runs the benchmark job <paramref name="id"/>.</summary>
    /// <param name="id">The job.</param>
    [AutomaticRetry(Attempts = 0)]
    public void Run(string id)
    {
        if (store.Take(id) is not { } taken)
        {
            return;
        }

        var status = taken.Status;
        using var jobLock = taken.Lock;

        var messages = new List<string>();
        status = status with { State = JobState.Running, Error = null, Messages = [], Rows = [], ChartUrl = null };
        store.Write(status);
        try
        {
            var options = store.Options(status);
            var clock = Stopwatch.StartNew();
            var summaries = MethodBenchmark.Run(options, line =>
            {
                messages.Add(Shorten(id, line));
                status = status with { Messages = [.. messages.TakeLast(KeptMessages)] };
                store.Write(status);
            });
            var folder = store.Folder(id);
            var rows = summaries.Select(s => BenchmarkRow.Of(s, BenchmarkStore.FilesUrl(id))).ToList();
            AtomicFile.WriteAllText(Path.Combine(folder, BenchmarkStore.ResultsFile), JsonSerializer.Serialize(rows, StudioJson.Options));
            AtomicFile.WriteAllText(Path.Combine(folder, MethodBenchmark.ReportFileName), MethodBenchmark.Report(options, MethodBenchmark.ToMarkdown(summaries), clock.Elapsed));
            MethodChart.Save([.. summaries.Select(s => s.Mean)], Path.Combine(folder, MethodBenchmark.ChartFileName));
            store.Write(status with
            {
                State = JobState.Completed,
                Rows = rows,
                ChartUrl = BenchmarkStore.FilesUrl(id) + MethodBenchmark.ChartFileName,
            });
        }
        catch (Exception e)
        {
            store.Write(status with { State = JobState.Failed, Error = Shorten(id, e.Message) });
            throw;
        }
    }

    /// <summary>A message with the benchmark folder's path taken out (its files are named relative to it, as the API serves them).</summary>
    private string Shorten(string id, string message) => message.Replace(store.Folder(id) + Path.DirectorySeparatorChar, "", StringComparison.Ordinal);
}
