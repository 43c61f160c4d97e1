using System.Globalization;
using System.Net;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SdTune.Studio.Api;
using SdTune.Studio.Compare;
using SdTune.Studio.Generation;
using SdTune.Studio.Jobs;
using SdTune.Studio.Runs;

namespace SdTune.Studio;

/// <summary>
/// The studio: Kestrel serving the REST API (<c>/api</c>), its OpenAPI document (<c>/openapi/v1.json</c>), the pages
/// and the queue's dashboard (<c>/hangfire</c>), every one behind the <see cref="AccessToken"/>, with a job worker
/// (one job at a time) in the same process. Use <see cref="StartAsync"/>, then <see cref="Url"/>.
/// </summary>
public sealed class StudioServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private StudioServer(WebApplication app, AccessToken token, StudioHome home)
    {
        this.app = app;
        Token = token;
        Home = home;
    }

    /// <summary>The access token.</summary>
    public AccessToken Token { get; }

    /// <summary>The studio's folder.</summary>
    public StudioHome Home { get; }

    /// <summary>The address the studio listens on, e.g. <c>http://127.0.0.1:5173</c> (known once started).</summary>
    public Uri Address { get; private set; } = new("http://127.0.0.1/");

    /// <summary>The URL to open: <see cref="Address"/> with the token.</summary>
    public string Url => $"{Address.GetLeftPart(UriPartial.Authority)}/?token={Token.Value}";

    /// <summary>The services (for tests and the job code).</summary>
    public IServiceProvider Services => app.Services;

    /// <summary>Builds and starts the studio.</summary>
    public static async Task<StudioServer> StartAsync(StudioOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var token = options.Token ?? AccessToken.Generate();
        var home = new StudioHome(options.Home, options.ToyModel, options.BenchmarkSpec);
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = typeof(StudioServer).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = Environments.Production,
        });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(options.Listen, options.Port));
        builder.WebHost.UseUrls();
        builder.Services.ConfigureHttpJsonOptions(o => StudioJson.Configure(o.SerializerOptions));
        builder.Services.AddOpenApi();
        AddJobs(builder.Services, home, options);
        builder.Services.AddSingleton(token);

        var app = builder.Build();
        app.Use(token.Check);
        app.UseHangfireDashboard("/hangfire", new DashboardOptions { Authorization = [new TokenCheckedFilter()], AppPath = "/", DisplayStorageConnectionString = false }, app.Services.GetRequiredService<JobStorage>());
        app.MapOpenApi();
        StudioApi.Map(app);
        StudioPages.Map(app);

        var server = new StudioServer(app, token, home);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("the studio started without an address.");
        server.Address = new Uri(address.Replace("[::]", "localhost", StringComparison.Ordinal));
        return server;
    }

    /// <summary>Waits until the studio is stopped (Ctrl+C or <paramref name="cancellationToken"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => app.WaitForShutdownAsync(cancellationToken);

    /// <summary>Stops the studio (the worker's running job goes back to the queue after saving its state).</summary>
    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    /// <summary>The job services: storage, client, the training, benchmark and grid jobs and, with <see cref="StudioOptions.Worker"/>, a server with one worker.</summary>
    internal static void AddJobs(IServiceCollection services, StudioHome home, StudioOptions options)
    {
        var storage = QueueStorage.Open(options.Storage ?? home.QueueDatabase, options.QueuePollInterval, options.InvisibilityTimeout);
        services.AddSingleton(home);
        services.AddSingleton<RunStore>();
        services.AddSingleton<RunPlanner>();
        services.AddSingleton<StudioLibrary>();
        services.AddSingleton<StudioGenerator>();
        services.AddTransient<TrainingJob>();
        services.AddSingleton<GenerationStore>();
        services.AddTransient<GenerationJob>();
        services.AddSingleton<BenchmarkStore>();
        services.AddTransient<BenchmarkJob>();
        services.AddSingleton<GridStore>();
        services.AddTransient<GridJob>();
        services.AddSingleton(storage);
        services.AddHangfire(c => c.SetDataCompatibilityLevel(CompatibilityLevel.Version_180).UseSimpleAssemblyNameTypeSerializer().UseRecommendedSerializerSettings());
        if (options.Worker)
        {
            services.AddHangfireServer((_, o) =>
            {
                o.WorkerCount = 1;
                o.ServerName = string.Create(CultureInfo.InvariantCulture, $"{Dns.GetHostName()}:{Environment.ProcessId}");
                o.SchedulePollingInterval = options.QueuePollInterval;
                o.ShutdownTimeout = TimeSpan.FromMinutes(1);
            }, storage);
        }
    }

    /// <summary>The dashboard's own check: the access token was already checked in front of it.</summary>
    private sealed class TokenCheckedFilter : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => true;
    }
}
