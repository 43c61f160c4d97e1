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
        var command = new Command("studio", "Start SdTune Studio: training runs through a web page and a REST API, with a job queue; prints the URL with its access token.")
        {
            port, listen, home,
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

            await using var studio = await StudioServer.StartAsync(new StudioOptions
            {
                Home = parse.GetValue(home)!,
                ToyModel = ToyModel(),
                Listen = address,
                Port = portNumber,
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
        var storage = new Option<string?>("--storage") { Description = "The job queue's storage: the studio's SQLite file (default: HOME/storage/hangfire.db)." };
        var home = HomeOption();
        var command = new Command("worker", "Run a job worker for SdTune Studio: takes queued runs one at a time from the queue's storage and trains them in the studio folder.")
        {
            storage, home,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var worker = StudioWorker.Create(new StudioOptions
            {
                Home = parse.GetValue(home)!,
                ToyModel = ToyModel(),
                Storage = parse.GetValue(storage),
            });
            Console.WriteLine("SdTune worker: waiting for jobs (Ctrl+C stops it; a running job saves its state and goes back to the queue).");
            await worker.RunAsync(cancellationToken);
            return 0;
        });
        return command;
    }

    private static Option<string> HomeOption() =>
        new("--home") { Description = "The studio folder (runs, storage, models, loras, datasets).", DefaultValueFactory = _ => "studio" };

    private static string? ToyModel() => File.Exists(Path.Combine(ToyAssets.BaseModel, "model_index.json")) ? ToyAssets.BaseModel : null;
}
