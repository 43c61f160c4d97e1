using System.Net;
using System.Net.Http.Headers;
using SdTune.Studio;

namespace SdTune.Tests.Studio;

/// <summary>Several studios in one process, one after another (a host restarted in place, or tests that each start one).</summary>
public sealed class StudioRestartTests
{
    [Fact]
    public async Task A_studio_started_after_another_one_was_disposed_in_the_same_process_serves_requests()
    {
        using var home = TestPaths.NewTempDir();
        for (var round = 0; round < 2; round++)
        {
            // The first studio's logger factory is disposed with it; the second must not log into it.
            await using var studio = await StudioServer.StartAsync(new StudioOptions
            {
                Home = home.Path,
                ToyModel = Path.Combine(AppContext.BaseDirectory, "toyworld", "base-model"),
                QueuePollInterval = TimeSpan.FromMilliseconds(200),
            });
            using var client = new HttpClient { BaseAddress = studio.Address };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", studio.Token.Value);
            using var response = await client.GetAsync(new Uri("/api/runs", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }
}
