using System.CommandLine;
using System.Net;
using Microsoft.Extensions.Hosting;
using SdTune.Studio;

namespace SdTune.Cli.Commands;

/// <summary>
/// <c>sdtune studio</c>: the studio (web pages and REST API) with a job worker, on the loopback address behind a random
/// access token; and <c>sdtune worker</c>: a job worker alone, taking jobs from a studio's queue storage.
/// </summary>
internal static class StudioCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Port to listen on (0: a free one).", DefaultValueFactory = _ => 0 };
        var listen = new Option<string>("--listen") { Description = "Address to listen on (the token is required on any address).", DefaultValueFactory = _ => "127.0.0.1" };
        var home = HomeOption();
        var storage = StorageOption();
        var workers = new Option<int>("--workers") { Description = "Job workers in the studio's process: 1 (one job at a time), or 0 when only `sdtune worker` processes run the jobs (on a shared PostgreSQL storage).", DefaultValueFactory = _ => 1 };
        var invisibility = InvisibilityOption();
        var command = new Command("studio", "Start SdTune Studio: training runs through a web page and a REST API, with a job queue; prints the URL with its access token.")
        {
            port, listen, home, storage, workers, invisibility,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var text = parse.GetValue(listen)!;
            if (!IPAddress.TryParse(text, out var address))
            {
                throw new ArgumentException($"--listen: '{text}' is not an IP address.");
            }

            var portNumber = parse.GetValue(port);
            if (portNumber is < 0 or > 65535)
            {
                throw new ArgumentException($"--port: {portNumber} is not a port (0 to 65535).");
            }

            var workerCount = parse.GetValue(workers);
            if (workerCount is not (0 or 1))
            {
                throw new ArgumentException($"--workers: {workerCount}; give 1 (a worker in the studio) or 0 (none: start `sdtune worker` processes, one per device).");
            }

            await using var studio = await StudioServer.StartAsync(new StudioOptions
            {
                Home = parse.GetValue(home)!,
                ToyModel = ToyModel(),
                BenchmarkSpec = BenchmarkSpec(),
                Listen = address,
                Port = portNumber,
                Storage = parse.GetValue(storage),
                Worker = workerCount == 1,
                InvisibilityTimeout = Invisibility(parse.GetValue(invisibility)),
            }, cancellationToken);
            Console.WriteLine($"SdTune Studio: {studio.Url}");
            Console.WriteLine($"folder: {studio.Home.Root}; API token (Authorization: Bearer): {studio.Token.Value}");
            Console.WriteLine("Ctrl+C stops it (a running job saves its state and goes back to the queue).");
            await studio.WaitForShutdownAsync(cancellationToken);
            return 0;
        });
        return command;
    }

    public static Command CreateWorker()
    {
        var storage = StorageOption();
        var home = HomeOption();
        var invisibility = InvisibilityOption();
        var command = new Command("worker", "Run a job worker for SdTune Studio: takes queued runs one at a time from the queue's storage and trains them in the studio folder (run one per device).")
        {
            storage, home, invisibility,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var worker = StudioWorker.Create(new StudioOptions
            {
                Home = parse.GetValue(home)!,
                ToyModel = ToyModel(),
                BenchmarkSpec = BenchmarkSpec(),
                Storage = parse.GetValue(storage),
                InvisibilityTimeout = Invisibility(parse.GetValue(invisibility)),
            });
            Console.WriteLine("SdTune worker: waiting for jobs (Ctrl+C stops it; a running job saves its state and goes back to the queue).");
            await worker.RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }

    private static Option<string?> StorageOption() =>
        new("--storage") { Description = "The job queue's storage: a PostgreSQL connection string (\"Host=...;Port=...;Username=...;Password=...;Database=...\"), shared by a studio and workers on several machines, or a SQLite file (default: HOME/storage/hangfire.db)." };

    private static Option<int?> InvisibilityOption() =>
        new("--invisibility-timeout") { Description = "Seconds after which the job of a worker that died (stopped confirming it) goes back to the queue; another worker resumes it from its last saved state (default: 300 on PostgreSQL, 1800 on SQLite)." };

    private static TimeSpan? Invisibility(int? seconds) => seconds switch
    {
        null => null,
        > 0 => TimeSpan.FromSeconds(seconds.Value),
        _ => throw new ArgumentException($"--invisibility-timeout: {seconds} is not a number of seconds above 0."),
    };

    private static Option<string> HomeOption() =>
        new("--home") { Description = "The studio folder (runs, storage, models, loras, datasets).", DefaultValueFactory = _ => "studio" };

    private static string? ToyModel() => File.Exists(Path.Combine(ToyAssets.BaseModel, "model_index.json")) ? ToyAssets.BaseModel : null;

    private static string? BenchmarkSpec() => File.Exists(ToyAssets.BenchmarkSpec) ? ToyAssets.BenchmarkSpec : null;
}
