using System.Net;
using System.Net.Sockets;
using Npgsql;
using SdTune.Tests.Cli;

namespace SdTune.Tests.Studio;

/// <summary>
/// A PostgreSQL database of its own for one test. With <see cref="Variable"/> set (a connection string to a server whose
/// user may create databases, as <c>.ci/run</c> sets it) it creates a new database on that server; without it, it
/// starts a server of its own the same way <c>.ci/run</c> does: Debian's <c>initdb</c> and <c>pg_ctl</c> on a
/// temporary data folder and a free local port (as the user <c>nobody</c> when running as root, which PostgreSQL refuses).
/// Disposing drops the database and stops the server it started.
/// </summary>
internal sealed class TestPostgres : IAsyncDisposable
{
    /// <summary>The environment variable naming a server to use.</summary>
    public const string Variable = "SDTUNE_TEST_POSTGRES";

    private readonly string serverConnection;
    private readonly string database;
    private readonly OwnServer? own;

    private TestPostgres(string serverConnection, string database, OwnServer? own)
    {
        this.serverConnection = serverConnection;
        this.database = database;
        this.own = own;
        ConnectionString = new NpgsqlConnectionStringBuilder(serverConnection) { Database = database, Pooling = false }.ConnectionString;
    }

    /// <summary>A connection string to the test's own database.</summary>
    public string ConnectionString { get; }

    /// <summary>Creates the database, on the server <see cref="Variable"/> names or on a server started for it.</summary>
    /// <exception cref="InvalidOperationException">No <see cref="Variable"/> and no PostgreSQL server programs installed (the message says how to install them).</exception>
    public static async Task<TestPostgres> StartAsync()
    {
        var given = Environment.GetEnvironmentVariable(Variable);
        var own = string.IsNullOrWhiteSpace(given) ? OwnServer.Start() : null;
        try
        {
            var server = given is { Length: > 0 } ? given : own!.ConnectionString;
            var database = "sdtune_test_" + Guid.NewGuid().ToString("N")[..12];
            await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(server) { Pooling = false }.ConnectionString))
            {
                await connection.OpenAsync();
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
                await create.ExecuteNonQueryAsync();
            }

            return new TestPostgres(server, database, own);
        }
        catch
        {
            own?.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(serverConnection) { Pooling = false }.ConnectionString);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
        finally
        {
            own?.Dispose();
        }
    }

    /// <summary>A server in a temporary folder, stopped and deleted when disposed.</summary>
    private sealed class OwnServer : IDisposable
    {
        private readonly string folder;
        private readonly string bin;
        private readonly string? runAs;

        private OwnServer(string folder, string bin, string? runAs, int port)
        {
            this.folder = folder;
            this.bin = bin;
            this.runAs = runAs;
            ConnectionString = $"Host=127.0.0.1;Port={port};Username=sdtune;Database=postgres;Pooling=false";
        }

        public string ConnectionString { get; }

        private string Data => Path.Combine(folder, "data");

        public static OwnServer Start()
        {
            var bin = FindBin() ?? throw new InvalidOperationException(
                $"The multi-worker studio test needs a PostgreSQL server: either set {Variable} to a connection string " +
                "(Host=...;Port=...;Username=...;Database=...; the user must be allowed to create databases), or install " +
                "Debian's PostgreSQL server programs (sudo apt-get install postgresql) so the test can start its own " +
                "server with initdb and pg_ctl (found on PATH or in /usr/lib/postgresql/<version>/bin).");
            var runAs = Environment.UserName == "root" || Environment.GetEnvironmentVariable("USER") == "root" ? "nobody" : null;
            var folder = Directory.CreateTempSubdirectory("sdtune-postgres-").FullName;
            var port = FreePort();
            var server = new OwnServer(folder, bin, runAs, port);
            try
            {
                var socket = Path.Combine(folder, "socket");
                Directory.CreateDirectory(socket);
                if (runAs is not null)
                {
                    Check(CliProcess.Run("chmod", ["711", folder]), "chmod");
                    Check(CliProcess.Run("chown", [runAs, folder, socket]), "chown");
                }

                server.Pg("initdb", ["-D", server.Data, "-U", "sdtune", "-A", "trust", "-E", "UTF8", "--no-sync"]);
                server.Pg("pg_ctl", ["-D", server.Data, "-l", Path.Combine(folder, "server.log"), "-w", "-t", "60",
                    "-o", $"-F -p {port} -k {socket} -c listen_addresses=127.0.0.1", "start"]);
                return server;
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }

        public void Dispose()
        {
            try
            {
                if (File.Exists(Path.Combine(Data, "postmaster.pid")))
                {
                    Pg("pg_ctl", ["-D", Data, "-m", "immediate", "-w", "stop"]);
                }
            }
            finally
            {
                Directory.Delete(folder, recursive: true);
            }
        }

        private void Pg(string program, string[] args)
        {
            var path = Path.Combine(bin, program);
            Check(runAs is null ? CliProcess.Run(path, args) : CliProcess.Run("runuser", ["-u", runAs, "--", path, .. args]), program);
        }

        private static void Check((int ExitCode, string Out, string Error) result, string what)
        {
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"{what} failed ({result.ExitCode}): {result.Error}{result.Out}");
            }
        }

        /// <summary>The folder holding initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/N/bin (Debian's).</summary>
        private static string? FindBin()
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")))
                {
                    return dir;
                }
            }

            const string debian = "/usr/lib/postgresql";
            return !Directory.Exists(debian) ? null : Directory.EnumerateDirectories(debian)
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault();
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
