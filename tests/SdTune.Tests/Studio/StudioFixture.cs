using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using SdTune.Studio;
using SdTune.Studio.Runs;
using SdTune.ToyWorld;

namespace SdTune.Tests.Studio;

/// <summary>One studio on a free port with a temporary folder, the embedded toy model and a tiny toy dataset (<c>datasets/tiny</c>), shared by the studio tests.</summary>
public sealed class StudioFixture : IAsyncLifetime
{
    private readonly TempDir home = TestPaths.NewTempDir();

    public StudioServer Studio { get; private set; } = null!;

    /// <summary>A client that sends the token.</summary>
    public HttpClient Client { get; private set; } = null!;

    /// <summary>A client that sends no token.</summary>
    public HttpClient Anonymous { get; private set; } = null!;

    public string Home => home.Path;

    public async Task InitializeAsync()
    {
        ToyDatasetWriter.WritePretraining(Path.Combine(home.Path, "datasets", "tiny"), new ToyWorldGenerator(), 2);
        Studio = await StudioServer.StartAsync(new StudioOptions
        {
            Home = home.Path,
            ToyModel = Path.Combine(AppContext.BaseDirectory, "toyworld", "base-model"),
            BenchmarkSpec = WriteSmallBenchmarkSpec(Path.Combine(home.Path, "benchmark.toml")),
            QueuePollInterval = TimeSpan.FromMilliseconds(200),
        });
        Client = new HttpClient { BaseAddress = Studio.Address, Timeout = TimeSpan.FromMinutes(2) };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Studio.Token.Value);
        Anonymous = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = Studio.Address };
    }

    /// <summary>
    /// The shipped benchmark spec cut down so a benchmark job stays fast: its subject and instance pictures, one
    /// evaluation placement, two pictures per prompt, and the rows lora and locon.
    /// </summary>
    private static string WriteSmallBenchmarkSpec(string path)
    {
        var shipped = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "toyworld", "benchmark.toml"));
        var spec = shipped[..shipped.IndexOf("[[evaluation]]", StringComparison.Ordinal)].Replace("images_per_prompt = 4", "images_per_prompt = 2", StringComparison.Ordinal) + """
            [[evaluation]]
            background = "white"
            size = "large"
            position = "center"

            [[methods]]
            name = "lora"
            description = "LoRA r2"
            settings = { network_dim = 2, network_alpha = 2, learning_rate = 5e-3 }

            [[methods]]
            name = "locon"
            method = "lora"
            description = "LoCon r2, conv r2"
            settings = { network_dim = 2, network_alpha = 2, network_args = ["conv_dim=2", "conv_alpha=2"], learning_rate = 5e-3 }

            """;
        File.WriteAllText(path, spec);
        return path;
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        Anonymous.Dispose();
        await Studio.DisposeAsync();
        home.Dispose();
    }

    /// <summary>Posts a run request; returns the status code and the JSON answer.</summary>
    public async Task<(int Status, JsonElement Body)> PostRun(object request)
    {
        using var response = await Client.PostAsJsonAsync("/api/runs", request);
        return ((int)response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    /// <summary>Polls the run until <paramref name="done"/> holds (at most two minutes).</summary>
    public async Task<RunStatus> WaitFor(string id, Func<RunStatus, bool> done)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var status = (await Client.GetFromJsonAsync<RunStatus>($"/api/runs/{id}", StudioJson.Options))!;
            if (done(status))
            {
                return status;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"run {id} is still {status.State} (step {status.Step}/{status.TotalSteps}; {status.Error})");
            await Task.Delay(100);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class StudioCollection : ICollectionFixture<StudioFixture>
{
    public const string Name = "Studio";
}
