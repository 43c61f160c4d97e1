using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using SdTune.Checkpoints.Safetensors;
using SdTune.Studio;
using SdTune.Studio.Runs;
using SdTune.Tests.Cli;
using SdTune.ToyWorld;
using SdTune.Training;

namespace SdTune.Tests.Studio;

/// <summary>
/// A studio without a worker of its own and <c>sdtune worker</c> processes sharing a PostgreSQL queue and a studio
/// folder: one worker is killed mid-run, and its run is resumed by another worker from its saved state.
/// </summary>
public sealed class MultiWorkerTests
{
    private const int Runs = 6;
    private const int Steps = 8;
    private const int SaveEvery = 2;

    /// <summary>How soon a killed worker's job goes back to the queue (the workers confirm running jobs continually).</summary>
    private const int InvisibilitySeconds = 5;

    [Fact]
    public async Task Six_runs_on_two_worker_processes_finish_exactly_once_when_a_worker_is_killed_mid_run()
    {
        await using var postgres = await TestPostgres.StartAsync();
        using var home = TestPaths.NewTempDir();
        ToyDatasetWriter.WritePretraining(Path.Combine(home.Path, "datasets", "tiny"), new ToyWorldGenerator(), 2);
        await using var studio = await StudioServer.StartAsync(new StudioOptions
        {
            Home = home.Path,
            ToyModel = Path.Combine(AppContext.BaseDirectory, "toyworld", "base-model"),
            Storage = postgres.ConnectionString,
            Worker = false,
            QueuePollInterval = TimeSpan.FromMilliseconds(200),
            InvisibilityTimeout = TimeSpan.FromSeconds(InvisibilitySeconds),
        });
        using var client = new HttpClient { BaseAddress = studio.Address, Timeout = TimeSpan.FromMinutes(1) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", studio.Token.Value);
        var store = studio.Services.GetService(typeof(RunStore)) as RunStore ?? throw new InvalidOperationException("no run store");

        var workers = new List<Worker> { Worker.Start(home.Path, postgres.ConnectionString), Worker.Start(home.Path, postgres.ConnectionString) };
        try
        {
            var ids = new List<string>();
            for (var i = 0; i < Runs; i++)
            {
                using var response = await client.PostAsJsonAsync("/api/runs", new
                {
                    method = "lora",
                    dataset = "tiny",
                    base_model = "toy",
                    keys = new { max_train_steps = Steps, save_every_n_steps = SaveEvery, network_dim = 2, seed = i + 1 },
                });
                Assert.Equal(202, (int)response.StatusCode);
                ids.Add((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!);
            }

            // Wait for a run that is mid-way with a state saved, and kill the worker training it.
            var clock = Stopwatch.StartNew();
            string? killedRun = null;
            long savedBeforeKill = 0;
            while (killedRun is null)
            {
                foreach (var id in ids)
                {
                    var status = store.Read(id)!;
                    if (status.State == RunState.Running && TrainingStateFolders.Latest(store.OutputPath(id)) is { } saved && saved.Step < Steps
                        && AttemptWorkers(store, id) is [var pid] && workers.SingleOrDefault(w => w.Id == pid) is { } worker)
                    {
                        worker.Kill();
                        killedRun = id;
                        savedBeforeKill = saved.Step;
                        break;
                    }
                }

                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), "no run got to a saved state mid-way:\n" + Describe(store, ids, workers));
                await Task.Delay(50);
            }

            var latestAfterKill = TrainingStateFolders.Latest(store.OutputPath(killedRun))!.Value.Step;
            workers.Add(Worker.Start(home.Path, postgres.ConnectionString));

            while (!ids.All(id => store.Read(id)!.IsFinal))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(110), "the runs did not all finish:\n" + Describe(store, ids, workers));
                await Task.Delay(200);
            }

            foreach (var id in ids)
            {
                var status = store.Read(id)!;
                Assert.True(status.State == RunState.Completed, $"run {id}: {status.State} ({status.Error})\n" + Describe(store, ids, workers));
                Assert.Equal(Steps, status.Step);
                var attempts = store.AttemptSteps(id);
                if (id == killedRun)
                {
                    // Trained once from the start, killed, then resumed from the latest state saved before the kill (the final one when
                    // the kill came between the last state and the run's end): never from step 0 again.
                    Assert.Equal(2, attempts.Count);
                    Assert.Equal(0, attempts[0]);
                    Assert.InRange(attempts[1], Math.Max(savedBeforeKill, 1), Steps);
                    Assert.Equal(latestAfterKill, attempts[1]);
                    Assert.Equal(attempts[1], status.ResumedFromStep);
                    Assert.Contains(status.Messages, m => m.StartsWith("Resumed from ", StringComparison.Ordinal));
                }
                else
                {
                    Assert.True(attempts is [0], $"run {id} was trained by {attempts.Count} attempts (from steps {string.Join(", ", attempts)}), not once");
                    Assert.Null(status.ResumedFromStep);
                }

                Assert.Contains("output/last.safetensors", status.Outputs);
            }

            // No output is torn: every safetensors file in the run folders (outputs and states) opens and reads whole.
            var files = Directory.GetFiles(Path.Combine(home.Path, "runs"), "*.safetensors", SearchOption.AllDirectories);
            Assert.True(files.Length >= Runs, $"only {files.Length} safetensors files");
            foreach (var file in files)
            {
                using var safetensors = SafetensorsFile.Open(file);
                Assert.NotEmpty(safetensors.Tensors);
                foreach (var (_, tensor) in safetensors.ReadAll())
                {
                    tensor.Dispose();
                }
            }
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Dispose();
            }
        }
    }

    /// <summary>The process ids of the workers that started attempts on the run, from its attempts log.</summary>
    private static List<int> AttemptWorkers(RunStore store, string id)
    {
        var path = Path.Combine(store.Folder(id), RunStore.AttemptsFile);
        return !File.Exists(path) ? [] :
            [.. File.ReadAllLines(path).Select(l => l.Split(' ').Single(p => p.StartsWith("worker=", StringComparison.Ordinal)))
                .Select(p => int.Parse(p[(p.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture))];
    }

    private static string Describe(RunStore store, IEnumerable<string> ids, IEnumerable<Worker> workers) =>
        string.Join('\n', ids.Select(id => store.Read(id) is { } s ? $"{id}: {s.State} step {s.Step}/{s.TotalSteps} attempts [{string.Join(", ", store.AttemptSteps(id))}] {s.Error}" : id))
        + "\n" + string.Join('\n', workers.Select(w => w.Describe()));

    /// <summary>A <c>sdtune worker</c> process.</summary>
    private sealed class Worker : IDisposable
    {
        private readonly Process process;
        private readonly StringBuilder output = new();

        private Worker(Process process) => this.process = process;

        public int Id => process.Id;

        public static Worker Start(string home, string storage)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { CliProcess.CommandDll, "worker", "--storage", storage, "--home", home, "--threads", "1",
                "--invisibility-timeout", InvisibilitySeconds.ToString(CultureInfo.InvariantCulture) })
            {
                start.ArgumentList.Add(arg);
            }

            var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start sdtune worker");
            var worker = new Worker(process);
            process.OutputDataReceived += (_, e) => worker.Add(e.Data);
            process.ErrorDataReceived += (_, e) => worker.Add(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return worker;
        }

        /// <summary>SIGKILL: the worker gets no chance to save or hand its job back.</summary>
        public void Kill()
        {
            process.Kill(entireProcessTree: false);
            process.WaitForExit();
        }

        public string Describe()
        {
            lock (output)
            {
                return $"worker {process.Id} ({(process.HasExited ? $"exited {process.ExitCode}" : "running")}): {output}";
            }
        }

        public void Dispose()
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }

            process.Dispose();
        }

        private void Add(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }
    }
}
