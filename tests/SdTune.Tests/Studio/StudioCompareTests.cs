using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SdTune.Imaging;
using SdTune.Studio;
using SdTune.Studio.Compare;
using SdTune.Studio.Jobs;
using SdTune.Studio.Runs;
using SkiaSharp;

namespace SdTune.Tests.Studio;

/// <summary>The Compare page's jobs: a method benchmark and an X/Y grid of finished runs, queued and run by the studio's worker on the toy model.</summary>
[Collection(StudioCollection.Name)]
public sealed class StudioCompareTests(StudioFixture studio)
{
    /// <summary>Fractions of the table (shares of pictures), each from 0 to 1.</summary>
    private static readonly string[] Shares = ["subject_fidelity", "subject_shape_and_colors", "subject_pattern", "prompt_background", "prompt_size", "prompt_position", "prior_preservation", "class_fidelity"];

    [Fact]
    public async Task A_benchmark_job_runs_the_rows_asked_for_and_writes_the_table_the_chart_and_the_grids()
    {
        var methods = await studio.Client.GetFromJsonAsync<JsonElement>("/api/benchmarks/methods");
        Assert.Contains(methods.EnumerateArray(), m => m.GetProperty("name").GetString() == "lora");

        var (code, queued) = await Post("/api/benchmarks", new { methods = new[] { "lora" }, steps = 2, seeds = 1, sampling_steps = 2 });
        Assert.Equal(202, code);
        var id = queued.GetProperty("id").GetString()!;
        var job = await WaitFor($"/api/benchmarks/{id}");
        Assert.Equal("completed", job.GetProperty("state").GetString());
        Assert.NotEmpty(job.GetProperty("messages").EnumerateArray());
        Assert.All(job.GetProperty("messages").EnumerateArray(), m => Assert.DoesNotContain(studio.Home, m.GetString(), StringComparison.Ordinal));

        var rows = job.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(["base model", "lora"], rows.Select(r => r.GetProperty("method").GetString()));
        foreach (var row in rows)
        {
            Assert.Equal(1, row.GetProperty("seeds").GetInt32());
            foreach (var share in Shares)
            {
                Assert.InRange(row.GetProperty("mean").GetProperty(share).GetDouble(), 0, 1);
            }

            using var grid = SKBitmap.Decode(await studio.Client.GetByteArrayAsync(row.GetProperty("grid_url").GetString()));
            Assert.True(grid is { Width: > 32, Height: > 32 }, "the row's grid does not decode");
        }

        Assert.True(rows[1].GetProperty("mean").GetProperty("output_bytes").GetInt64() > 0);
        var results = JsonDocument.Parse(File.ReadAllText(Path.Combine(studio.Home, "benchmarks", id, BenchmarkStore.ResultsFile))).RootElement;
        Assert.Equal(rows[1].GetProperty("mean").GetProperty("subject_fidelity").GetDouble(), results[1].GetProperty("mean").GetProperty("subject_fidelity").GetDouble());
        Assert.Contains("| lora |", File.ReadAllText(Path.Combine(studio.Home, "benchmarks", id, "report.md")), StringComparison.Ordinal);

        using var chart = SKBitmap.Decode(await studio.Client.GetByteArrayAsync(job.GetProperty("chart_url").GetString()));
        Assert.Equal((1000, 640), (chart.Width, chart.Height));
        Assert.Contains((await studio.Client.GetFromJsonAsync<JsonElement>("/api/benchmarks")).EnumerateArray(), b => b.GetProperty("id").GetString() == id);
        Assert.Equal(HttpStatusCode.NotFound, await Status($"/api/benchmarks/{id}/files/report.md"));
        Assert.Equal(HttpStatusCode.NotFound, await Status($"/api/benchmarks/{id}/files/..%2Fstatus.png"));
    }

    [Theory]
    [InlineData("""{"methods": ["no-such-row"]}""", "methods")]
    [InlineData("""{"methods": []}""", "methods")]
    [InlineData("""{"methods": "lora"}""", "methods")]
    [InlineData("""{"steps": 0}""", "steps")]
    [InlineData("""{"steps": 2.5}""", "steps")]
    [InlineData("""{"seeds": 101}""", "seeds")]
    [InlineData("""{"seeds": "one"}""", "seeds")]
    [InlineData("""{"sampling_steps": 0}""", "sampling_steps")]
    [InlineData("""{"speed": 1}""", "speed")]
    [InlineData("""[1]""", "body")]
    public async Task A_wrong_benchmark_request_is_refused_naming_its_field(string json, string field)
    {
        var before = Directory.GetDirectories(Path.Combine(studio.Home, "benchmarks")).Length;
        var (code, error) = await PostJson("/api/benchmarks", json);
        Assert.Equal((400, field), (code, error.GetProperty("field").GetString()));
        Assert.Equal(before, Directory.GetDirectories(Path.Combine(studio.Home, "benchmarks")).Length);
    }

    [Fact]
    public async Task A_grid_job_renders_runs_by_prompts_with_the_run_lora_changing_its_row()
    {
        var (_, run) = await studio.PostRun(new { method = "lora", dataset = "tiny", keys = new { max_train_steps = 3, network_dim = 2, seed = 1, learning_rate = 0.05 } });
        var runId = run.GetProperty("id").GetString()!;
        Assert.Equal(RunState.Completed, (await studio.WaitFor(runId, s => s.IsFinal)).State);

        string[] prompts = ["a red circle on a blue background", "a green square"];
        var (code, queued) = await Post("/api/grids", new { runs = new[] { runId }, prompts, include_base = true, steps = 3, seed = 7, width = 32, height = 32 });
        Assert.Equal(202, code);
        Assert.Equal(4, queued.GetProperty("cells").GetInt32());
        var job = await WaitFor($"/api/grids/{queued.GetProperty("id").GetString()}");
        Assert.Equal("completed", job.GetProperty("state").GetString());
        Assert.Equal(4, job.GetProperty("cell").GetInt32());

        var png = await studio.Client.GetByteArrayAsync(job.GetProperty("image_url").GetString());
        Assert.Contains(prompts[0], PngText.Find(PngText.Read(png, "grid"), PngText.ParametersKeyword), StringComparison.Ordinal);
        using var grid = SKBitmap.Decode(png);
        var cells = new List<SKBitmap>();
        try
        {
            // Cells in display order: row 0 (base model) then row 1 (the run), each left to right by prompt.
            foreach (var url in job.GetProperty("cell_urls").EnumerateArray())
            {
                cells.Add(SKBitmap.Decode(await studio.Client.GetByteArrayAsync(url.GetString())));
            }

            Assert.Equal(4, cells.Count);
            Assert.All(cells, c => Assert.Equal((32, 32), (c.Width, c.Height)));
            var at = cells.Select(c => Find(grid, c)).ToArray();
            Assert.All(at, p => Assert.True(p.X >= 0, "a picture is missing from the grid"));
            // Two rows by two columns, labels on the left and on top.
            Assert.Equal((at[0].X, at[1].X), (at[2].X, at[3].X));
            Assert.Equal((at[0].Y, at[2].Y), (at[1].Y, at[3].Y));
            Assert.True(at[1].X >= at[0].X + 32 && at[2].Y >= at[0].Y + 32, "the cells overlap");
            Assert.True(at[0].X > 0 && at[0].Y > 0, "the grid has no room for its labels");
            Assert.True(grid.Width >= at[1].X + 32 && grid.Height >= at[2].Y + 32);
            for (var column = 0; column < 2; column++)
            {
                Assert.NotEqual(BitmapPixels.ReadOpaqueRgba(cells[column]), BitmapPixels.ReadOpaqueRgba(cells[2 + column]));
            }
        }
        finally
        {
            cells.ForEach(c => c.Dispose());
        }

        Assert.Contains((await studio.Client.GetFromJsonAsync<JsonElement>("/api/grids")).EnumerateArray(), g => g.GetProperty("id").GetString() == job.GetProperty("id").GetString());

        // LoRA weights as the columns, one panel per prompt: weight 0 draws what weight 4 does not.
        var (_, byWeight) = await Post("/api/grids", new { runs = new[] { runId }, prompts, weights = new[] { 0.0, 4.0 }, steps = 3, seed = 7, width = 32, height = 32 });
        var weighed = await WaitFor($"/api/grids/{byWeight.GetProperty("id").GetString()}");
        Assert.Equal("completed", weighed.GetProperty("state").GetString());
        var pictures = new List<byte[]>();
        foreach (var url in weighed.GetProperty("cell_urls").EnumerateArray())
        {
            using var picture = SKBitmap.Decode(await studio.Client.GetByteArrayAsync(url.GetString()));
            pictures.Add(BitmapPixels.ReadOpaqueRgba(picture));
        }

        Assert.Equal(4, pictures.Count);
        Assert.NotEqual(pictures[0], pictures[1]);
        using var panels = SKBitmap.Decode(await studio.Client.GetByteArrayAsync(weighed.GetProperty("image_url").GetString()));
        Assert.True(panels.Width >= 4 * 32, $"two panels of two columns do not fit in {panels.Width} pixels");
    }

    [Fact]
    public async Task A_grid_of_runs_that_are_not_completed_or_unknown_is_refused_naming_runs()
    {
        var (_, run) = await studio.PostRun(new { method = "lora", dataset = "tiny", keys = new { max_train_steps = 100000, network_dim = 2 } });
        var runId = run.GetProperty("id").GetString()!;
        using (await studio.Client.PostAsync($"/api/runs/{runId}/stop", null))
        {
            // Stopped before it trains: no LoRA.
        }

        foreach (var runs in new[] { new[] { runId }, ["no-such-run"], ["../x"] })
        {
            var (code, error) = await Post("/api/grids", new { runs, prompts = new[] { "a red circle" } });
            Assert.Equal((400, "runs"), (code, error.GetProperty("field").GetString()));
        }

        Assert.Equal((400, "prompts"), await Refused("""{"prompts": []}""", skipRuns: true));
        Assert.Equal((400, "runs"), await Refused("""{"prompts": ["a"]}"""));
        Assert.Equal((400, "sampler"), await Refused("""{"sampler": "no such sampler"}""", skipRuns: true));
        Assert.Equal((400, "width"), await Refused("""{"width": 33}""", skipRuns: true));
        Assert.Equal((400, "weights"), await Refused("""{"weights": [1, "x"]}""", skipRuns: true));
    }

    [Fact]
    public async Task Unknown_jobs_are_404_and_the_endpoints_need_the_token()
    {
        foreach (var path in new[] { "/api/benchmarks/nope", "/api/grids/nope", "/api/benchmarks/nope/files/chart.png", "/api/grids/nope/files/grid.png", "/api/benchmarks/..%2Fx" })
        {
            Assert.Equal(HttpStatusCode.NotFound, await Status(path));
        }

        foreach (var path in new[] { "/api/benchmarks", "/api/benchmarks/methods", "/api/grids" })
        {
            using var response = await studio.Anonymous.GetAsync(path);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using var post = await studio.Anonymous.PostAsJsonAsync("/api/grids", new { runs = new[] { "x" } });
        Assert.Equal(HttpStatusCode.Unauthorized, post.StatusCode);
    }

    [Fact]
    public void Job_folders_write_atomically_and_list_newest_first()
    {
        using var dir = TestPaths.NewTempDir();
        var folders = new JobFolders<GridStatus>(dir.Path, "status.json", g => (g.Id, g.CreatedAt), g => g with { UpdatedAt = DateTimeOffset.UnixEpoch });
        GridStatus Job(string id, int minute) => new() { Id = id, State = JobState.Queued, CreatedAt = DateTimeOffset.UnixEpoch.AddMinutes(minute), Runs = ["r"], Prompts = ["p"], Seed = 1, Steps = 1, Sampler = "Euler a", Cfg = 7 };
        folders.Write(Job("older", 1));
        folders.Write(Job("newer", 2));
        Assert.Equal(["newer", "older"], folders.All().Select(g => g.Id));
        Assert.Equal(DateTimeOffset.UnixEpoch, folders.Read("older")!.UpdatedAt);
        Assert.Null(folders.Read(".."));
        Assert.Equal(["status.json"], Directory.GetFiles(Path.Combine(dir.Path, "older")).Select(Path.GetFileName));
        Assert.Throws<ArgumentException>(() => folders.Folder("../x"));
    }

    private async Task<(int, string?)> Refused(string json, bool skipRuns = false)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        if (skipRuns && !node.ContainsKey("runs"))
        {
            node["runs"] = new System.Text.Json.Nodes.JsonArray(await CompletedRun());
        }

        if (!node.ContainsKey("prompts"))
        {
            node["prompts"] = new System.Text.Json.Nodes.JsonArray("a red circle");
        }

        var (code, error) = await PostJson("/api/grids", node.ToJsonString());
        return (code, error.GetProperty("field").GetString());
    }

    /// <summary>A completed run with a LoRA (the first one listed, or a new two-step one).</summary>
    private async Task<string> CompletedRun()
    {
        var runs = await studio.Client.GetFromJsonAsync<RunStatus[]>("/api/runs", StudioJson.Options) ?? [];
        if (runs.FirstOrDefault(r => r.State == RunState.Completed && r.Outputs.Any(o => o.EndsWith(".safetensors", StringComparison.Ordinal))) is { } done)
        {
            return done.Id;
        }

        var (_, run) = await studio.PostRun(new { method = "lora", dataset = "tiny", keys = new { max_train_steps = 2, network_dim = 2 } });
        var id = run.GetProperty("id").GetString()!;
        Assert.Equal(RunState.Completed, (await studio.WaitFor(id, s => s.IsFinal)).State);
        return id;
    }

    /// <summary>Where <paramref name="cell"/> lies in <paramref name="grid"/> pixel for pixel; (-1, -1) when nowhere.</summary>
    private static (int X, int Y) Find(SKBitmap grid, SKBitmap cell)
    {
        var (g, c) = (BitmapPixels.ReadOpaqueRgba(grid), BitmapPixels.ReadOpaqueRgba(cell));
        for (var y = 0; y + cell.Height <= grid.Height; y++)
        {
            for (var x = 0; x + cell.Width <= grid.Width; x++)
            {
                var match = true;
                for (var row = 0; row < cell.Height && match; row++)
                {
                    match = g.AsSpan(((y + row) * grid.Width + x) * 4, cell.Width * 4).SequenceEqual(c.AsSpan(row * cell.Width * 4, cell.Width * 4));
                }

                if (match)
                {
                    return (x, y);
                }
            }
        }

        return (-1, -1);
    }

    private async Task<JsonElement> WaitFor(string path)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var job = await studio.Client.GetFromJsonAsync<JsonElement>(path);
            var state = job.GetProperty("state").GetString();
            if (state is "completed" or "failed")
            {
                return job;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), $"{path} is still {state}");
            await Task.Delay(200);
        }
    }

    private async Task<HttpStatusCode> Status(string path)
    {
        using var response = await studio.Client.GetAsync(path);
        return response.StatusCode;
    }

    private async Task<(int Status, JsonElement Body)> Post(string path, object request)
    {
        using var response = await studio.Client.PostAsJsonAsync(path, request);
        return ((int)response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private async Task<(int Status, JsonElement Body)> PostJson(string path, string json)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await studio.Client.PostAsync(path, content);
        return ((int)response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }
}
