using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SdTune.Studio;

/// <summary>
/// <c>sdtune worker</c>: a job worker without the web server; it takes jobs from the queue's storage one at a time and
/// runs the same job code as the studio's own worker, on runs in the studio folder it is given (a shared folder).
/// </summary>
public static class StudioWorker
{
    /// <summary>Builds the worker host (start it with <c>RunAsync</c>).</summary>
    public static IHost Create(StudioOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var home = new StudioHome(options.Home, options.ToyModel, options.BenchmarkSpec);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
            DisableDefaults = true,
        });
        builder.Logging.ClearProviders();
        StudioServer.AddJobs(builder.Services, home, options with { Worker = true });
        return builder.Build();
    }
}
