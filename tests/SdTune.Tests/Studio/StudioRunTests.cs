using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SdTune.Studio;
using SdTune.Studio.Runs;
using SdTune.Training;

namespace SdTune.Tests.Studio;

/// <summary>Runs posted to the API train through the job queue on the embedded toy model.</summary>
[Collection(StudioCollection.Name)]
public sealed class StudioRunTests(StudioFixture studio)
{
    private static readonly object FewSteps = new { max_train_steps = 3, network_dim = 2, seed = 1 };

    [Fact]
    public async Task A_lora_run_trains_through_the_queue_and_the_event_stream_reports_progress_and_completion()
    {
        var (code, body) = await studio.PostRun(new { method = "lora", dataset = "tiny", base_model = "toy", keys = FewSteps });
        Assert.Equal(202, code);
        var id = body.GetProperty("id").GetString()!;
        Assert.True(File.Exists(Path.Combine(studio.Home, "runs", id, RunStore.ConfigFile)));

        var events = await ReadEvents(id);
        Assert.Contains(events, e => e.Name == "progress");
        var (name, data) = events[^1];
        Assert.Equal("completed", name);
        Assert.Equal(3, data.GetProperty("step").GetInt64());
        Assert.Equal(3, data.GetProperty("total_steps").GetInt64());
        Assert.True(data.GetProperty("loss").GetDouble() > 0);

        var status = await studio.WaitFor(id, s => s.IsFinal);
        Assert.Equal(RunState.Completed, status.State);
        var output = Assert.Single(status.Outputs);
        Assert.Equal("output/last.safetensors", output);
        Assert.True(File.Exists(Path.Combine(studio.Home, "runs", id, output)));
        Assert.Contains(await studio.Client.GetFromJsonAsync<RunStatus[]>("/api/runs", StudioJson.Options) ?? [], r => r.Id == id);

        // The loss curve has every step, the configuration is the trainer's resolved one, the output downloads.
        var curve = (await studio.Client.GetFromJsonAsync<LossPoint[]>($"/api/runs/{id}/loss", StudioJson.Options))!;
        Assert.Equal([1L, 2L, 3L], curve.Select(p => p.Step));
        Assert.All(curve, p => Assert.True(p.Loss > 0));
        Assert.Equal(data.GetProperty("loss").GetDouble(), curve[^1].Loss);
        var config = await studio.Client.GetStringAsync($"/api/runs/{id}/config");
        Assert.Contains("network_dim = 2", config, StringComparison.Ordinal);
        Assert.Contains("learning_rate = ", config, StringComparison.Ordinal);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(studio.Home, "runs", id, output)), await studio.Client.GetByteArrayAsync($"/api/runs/{id}/files/{output}"));
        foreach (var escape in new[] { "output/../progress.json", "config.toml", "..%2Fprogress.json" })
        {
            using var refused = await studio.Client.GetAsync($"/api/runs/{id}/files/{escape}");
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }
    }

    [Fact]
    public async Task A_run_whose_folder_holds_a_saved_state_resumes_from_it()
    {
        var (code, body) = await studio.PostRun(new { method = "lora", dataset = "tiny", keys = new { max_train_steps = 2, network_dim = 2, save_state = true } });
        Assert.Equal(202, code);
        var id = body.GetProperty("id").GetString()!;
        var first = await studio.WaitFor(id, s => s.IsFinal);
        Assert.Equal((RunState.Completed, 2L, (long?)null), (first.State, first.Step, first.ResumedFromStep));

        // Longer now: the job finds the state saved at step 2 and trains steps 3 and 4 only.
        var configPath = Path.Combine(studio.Home, "runs", id, RunStore.ConfigFile);
        File.WriteAllText(configPath, TrainingConfig.Load(configPath).WithOverrides(["max_train_steps=4"]).ToToml());
        using (var resume = await studio.Client.PostAsync($"/api/runs/{id}/resume", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, resume.StatusCode);
        }

        var second = await studio.WaitFor(id, s => s.IsFinal);
        Assert.Equal((RunState.Completed, 4L, 4L, (long?)2), (second.State, second.Step, second.TotalSteps, second.ResumedFromStep));
        Assert.Contains(second.Messages, m => m.StartsWith("Resumed from ", StringComparison.Ordinal) && m.Contains("at step 2", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stopped_run_ends_stopped_with_a_saved_state()
    {
        var (_, body) = await studio.PostRun(new { method = "lora", dataset = "tiny", keys = new { max_train_steps = 100000, network_dim = 2 } });
        var id = body.GetProperty("id").GetString()!;
        await studio.WaitFor(id, s => s.Step >= 1);
        using (var stop = await studio.Client.PostAsync($"/api/runs/{id}/stop", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, stop.StatusCode);
        }

        var stopped = await studio.WaitFor(id, s => s.IsFinal);
        Assert.Equal(RunState.Stopped, stopped.State);
        Assert.InRange(stopped.Step, 1, 99999);
        Assert.NotNull(TrainingStateFolders.Latest(Path.Combine(studio.Home, "runs", id, RunStore.OutputFolder)));
    }

    private async Task<List<(string Name, JsonElement Data)>> ReadEvents(string id)
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var stream = await studio.Client.GetStreamAsync($"/api/runs/{id}/events", cancel.Token);
        using var reader = new StreamReader(stream);
        var events = new List<(string, JsonElement)>();
        string? name = null;
        while (await reader.ReadLineAsync(cancel.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((name!, JsonDocument.Parse(line["data: ".Length..]).RootElement.Clone()));
            }
        }

        return events;
    }
}
