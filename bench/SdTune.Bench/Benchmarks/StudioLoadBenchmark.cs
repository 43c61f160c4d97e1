using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using SdTune.Studio;
using SdTune.Studio.Runs;
using SdTune.ToyWorld;
using SdTune.Training;
using Spectre.Console;

namespace SdTune.Bench.Benchmarks;

/// <summary>
/// The studio under load, in process on a fresh temporary folder (SQLite queue, its one worker, the defaults of
/// <c>sdtune studio</c>): (1) how fast the queue dispatches tiny toy runs (one optimizer step each) against the same
/// trainings run one after another with the library's <see cref="Trainer"/>; (2) the response time of the Runs page and
/// the runs API with many concurrent clients while a toy training runs, against one client with nothing training.
/// Every wait is bounded; the temporary folder is deleted at the end.
/// </summary>
internal static class StudioLoadBenchmark
{
    private static readonly string[] Endpoints = ["GET /", "GET /api/runs", "GET /api/runs/{id}"];

    public static int Run(int clients, int seconds, int jobs)
    {
        if (clients < 1 || seconds < 1 || jobs < 1)
        {
            Console.Error.WriteLine("--clients, --seconds and --jobs must be at least 1.");
            return 2;
        }

        var temp = Path.Combine(Path.GetTempPath(), "sdtune-bench-studio-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            // The whole benchmark is bounded: dispatch, load phases and the trainings.
            using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(3 * seconds) + TimeSpan.FromSeconds(20 * jobs));
            return RunAsync(temp, clients, seconds, jobs, deadline.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("the studio benchmark ran past its time limit.");
            return 1;
        }
        finally
        {
            try
            {
                Directory.Delete(temp, recursive: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"could not delete the temporary folder: {e.Message}");
            }
        }
    }

    private static async Task<int> RunAsync(string temp, int clients, int seconds, int jobs, CancellationToken cancellationToken)
    {
        var home = Path.Combine(temp, "studio");
        var toyModel = Path.Combine(AppContext.BaseDirectory, "toyworld", "base-model");
        ToyDatasetWriter.WritePretraining(Path.Combine(home, "datasets", "tiny"), new ToyWorldGenerator(), 2);
        await using var studio = await StudioServer.StartAsync(new StudioOptions { Home = home, ToyModel = toyModel }, cancellationToken);
        using var client = new HttpClient { BaseAddress = studio.Address, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", studio.Token.Value);
        var tinyKeys = new { max_train_steps = 1, network_dim = 2, seed = 1, save_state = false };

        // Warm-up (not counted): one run through the queue, so libtorch, the model code and the queue are loaded.
        AnsiConsole.MarkupLine("Warm-up run through the queue...");
        var warm = await PostRun(client, tinyKeys, cancellationToken);
        await WaitFinal(client, warm, cancellationToken);

        // 1. Dispatch: post every run, then wait until all are final.
        AnsiConsole.MarkupLine($"Posting {jobs} tiny runs (LoRA on the toy model, 1 step each)...");
        var clock = Stopwatch.StartNew();
        var ids = new List<string>();
        for (var i = 0; i < jobs; i++)
        {
            ids.Add(await PostRun(client, tinyKeys, cancellationToken));
        }

        var statuses = new List<RunStatus>();
        foreach (var id in ids)
        {
            statuses.Add(await WaitFinal(client, id, cancellationToken));
        }

        var queueSeconds = clock.Elapsed.TotalSeconds;
        var failed = statuses.Count(s => s.State != RunState.Completed);
        var starts = ids.Select(id => FirstAttempt(Path.Combine(home, "runs", id, RunStore.AttemptsFile))).ToList();
        var waits = statuses.Zip(starts, (s, start) => start is { } t ? (t - s.CreatedAt).TotalSeconds : (double?)null).OfType<double>().ToList();
        var byStart = statuses.Zip(starts).Where(p => p.Second is not null).OrderBy(p => p.Second).ToList();
        var gaps = byStart.Zip(byStart.Skip(1), (previous, next) => (next.Second!.Value - previous.First.UpdatedAt).TotalSeconds).ToList();

        // Baseline: the same trainings (the runs' own configurations) with the library's Trainer, one after another.
        AnsiConsole.MarkupLine($"Baseline: the same {jobs} trainings with the Trainer directly...");
        clock.Restart();
        for (var i = 0; i < ids.Count; i++)
        {
            var config = TrainingConfig.Load(Path.Combine(home, "runs", ids[i], RunStore.ConfigFile)) with
            {
                PretrainedModel = toyModel,
                OutputDir = Path.Combine(temp, "direct", i.ToString(CultureInfo.InvariantCulture)),
            };
            new Trainer(config, new TrainerServices()).Run(cancellationToken);
        }

        var directSeconds = clock.Elapsed.TotalSeconds;

        AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 220);
        var dispatch = new Table().Border(TableBorder.Markdown).Title($"Dispatch: {jobs} tiny runs (toy LoRA, 1 step) through the queue (SQLite, one worker) vs. the Trainer directly")
            .AddColumns("measurement", "total (s)", "jobs/min", "per job (s)", "mean queued → started (s)", "mean gap, previous end → next start (s)");
        dispatch.AddRow("Trainer directly, one after another (baseline)", F(directSeconds), F(jobs * 60 / directSeconds), F(directSeconds / jobs), "", "");
        dispatch.AddRow($"POST /api/runs × {jobs}, until all completed{(failed > 0 ? $" ({failed} not completed)" : "")}", F(queueSeconds), F(jobs * 60 / queueSeconds), F(queueSeconds / jobs),
            waits.Count > 0 ? F(waits.Average()) : "", gaps.Count > 0 ? F(gaps.Average()) : "");
        dispatch.AddRow("queue overhead per job", "", "", F((queueSeconds - directSeconds) / jobs), "", "");
        AnsiConsole.Write(dispatch);

        // 2. Response time: idle with one client (baseline), idle with many, and many while a training runs.
        var target = ids[^1];
        var idleOne = await Load(client, 1, seconds, target, cancellationToken);
        var idleMany = await Load(client, clients, seconds, target, cancellationToken);
        var training = await PostRun(client, new { max_train_steps = 1_000_000, network_dim = 2, seed = 1, save_state = false }, cancellationToken);
        await WaitUntil(client, training, s => (s.State == RunState.Running && s.Step >= 1) || s.IsFinal, cancellationToken);
        var before = await Status(client, training, cancellationToken);
        var busyMany = await Load(client, clients, seconds, training, cancellationToken);
        var after = await Status(client, training, cancellationToken);
        using (var stop = await client.PostAsync(new Uri($"/api/runs/{training}/stop", UriKind.Relative), null, cancellationToken))
        {
            stop.EnsureSuccessStatusCode();
        }

        await WaitFinal(client, training, cancellationToken);

        var load = new Table().Border(TableBorder.Markdown).Title($"Response time: {clients} concurrent clients for {seconds} s each (loopback, bearer token; each client cycles through the three endpoints)")
            .AddColumns("scenario", "endpoint", "requests", "req/s", "p50 (ms)", "p95 (ms)", "p99 (ms)", "errors");
        AddRows(load, "1 client, nothing training (baseline)", idleOne, seconds);
        AddRows(load, $"{clients} clients, nothing training", idleMany, seconds);
        AddRows(load, $"{clients} clients, a toy training running", busyMany, seconds);
        AnsiConsole.Write(load);
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"The training ran {after.Step - before.Step} steps during the loaded window ({(after.Step - before.Step) / (double)seconds:F1} steps/s); GET /api/runs lists {ids.Count + 2} runs."));
        return failed == 0 && busyMany.Values.All(r => r.Errors == 0) ? 0 : 1;
    }

    /// <summary>Runs <paramref name="clients"/> loops for <paramref name="seconds"/>; each fetches the page, the list and one run in turn.</summary>
    private static async Task<Dictionary<string, Samples>> Load(HttpClient client, int clients, int seconds, string runId, CancellationToken cancellationToken)
    {
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"Load: {clients} client(s) for {seconds} s..."));
        var uris = new[] { new Uri("/", UriKind.Relative), new Uri("/api/runs", UriKind.Relative), new Uri($"/api/runs/{runId}", UriKind.Relative) };
        var end = Stopwatch.GetTimestamp() + (long)(seconds * (double)Stopwatch.Frequency);
        var loops = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var mine = Endpoints.ToDictionary(e => e, _ => new Samples(), StringComparer.Ordinal);
            for (var i = c; Stopwatch.GetTimestamp() < end; i++)
            {
                var k = i % uris.Length;
                var start = Stopwatch.GetTimestamp();
                try
                {
                    using var response = await client.GetAsync(uris[k], cancellationToken);
                    await response.Content.ReadAsByteArrayAsync(cancellationToken);
                    if (response.IsSuccessStatusCode)
                    {
                        mine[Endpoints[k]].Milliseconds.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    }
                    else
                    {
                        mine[Endpoints[k]].Errors++;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    mine[Endpoints[k]].Errors++;
                }
            }

            return mine;
        }, cancellationToken)).ToList();
        var all = Endpoints.ToDictionary(e => e, _ => new Samples(), StringComparer.Ordinal);
        foreach (var mine in await Task.WhenAll(loops))
        {
            foreach (var (endpoint, samples) in mine)
            {
                all[endpoint].Milliseconds.AddRange(samples.Milliseconds);
                all[endpoint].Errors += samples.Errors;
            }
        }

        return all;
    }

    private static void AddRows(Table table, string scenario, Dictionary<string, Samples> results, int seconds)
    {
        foreach (var endpoint in Endpoints)
        {
            var samples = results[endpoint];
            samples.Milliseconds.Sort();
            table.AddRow(scenario, endpoint, samples.Milliseconds.Count.ToString(CultureInfo.InvariantCulture), F(samples.Milliseconds.Count / (double)seconds),
                P(samples.Milliseconds, 0.50), P(samples.Milliseconds, 0.95), P(samples.Milliseconds, 0.99), samples.Errors.ToString(CultureInfo.InvariantCulture));
            scenario = "";
        }
    }

    private static string P(List<double> sorted, double q) =>
        sorted.Count == 0 ? "" : F(sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)]);

    private static async Task<string> PostRun(HttpClient client, object keys, CancellationToken cancellationToken)
    {
        using var response = await client.PostAsJsonAsync("/api/runs", new { method = "lora", dataset = "tiny", base_model = "toy", keys }, cancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST /api/runs answered {(int)response.StatusCode}: {body}");
        }

        return body.GetProperty("id").GetString()!;
    }

    private static async Task<RunStatus> Status(HttpClient client, string id, CancellationToken cancellationToken) =>
        (await client.GetFromJsonAsync<RunStatus>(new Uri($"/api/runs/{id}", UriKind.Relative), StudioJson.Options, cancellationToken))!;

    private static Task<RunStatus> WaitFinal(HttpClient client, string id, CancellationToken cancellationToken) => WaitUntil(client, id, s => s.IsFinal, cancellationToken);

    /// <summary>Polls the run every 20 ms until <paramref name="done"/> holds (bounded by the caller's token).</summary>
    private static async Task<RunStatus> WaitUntil(HttpClient client, string id, Func<RunStatus, bool> done, CancellationToken cancellationToken)
    {
        while (true)
        {
            var status = await Status(client, id, cancellationToken);
            if (done(status))
            {
                return status;
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    /// <summary>When the run's first job attempt started training (the first line of its attempts log).</summary>
    private static DateTimeOffset? FirstAttempt(string path) =>
        File.Exists(path) && File.ReadLines(path).FirstOrDefault() is { } line
            && DateTimeOffset.TryParse(line.Split(' ')[0], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at) ? at : null;

    private static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    private sealed class Samples
    {
        public List<double> Milliseconds { get; } = [];

        public int Errors { get; set; }
    }
}
