using System.Diagnostics;
using System.Globalization;
using Microsoft.Win32.SafeHandles;
using SdTune.Bench.Infrastructure;
using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Runtime;
using Spectre.Console;
using static TorchSharp.torch;

namespace SdTune.Bench.Benchmarks;

/// <summary>
/// Loading a full-size SD 1.5 single-file checkpoint (random weights, float32, the size of the published
/// "v1-5-pruned" file) against the cheapest possible load: reading the same bytes into one fresh buffer.
/// Each measurement runs in its own process, so peak memory is its own.
/// </summary>
internal static class CheckpointLoadBenchmark
{
    public static int Run(string workFolder, int repeats)
    {
        Directory.CreateDirectory(workFolder);
        var path = Path.Combine(workFolder, "sd15-random.safetensors");
        if (!File.Exists(path))
        {
            AnsiConsole.MarkupLine($"Writing a full-size SD 1.5 checkpoint of random weights to [blue]{Markup.Escape(path)}[/] (once)...");
            WriteRandomCheckpoint(path);
        }

        var size = new FileInfo(path).Length;
        AnsiConsole.MarkupLine($"File: {size / 1e9:F2} GB. Warming the page cache...");
        ChildRun.Measure("raw", path);

        var raw = new List<(double Seconds, long Peak)>();
        var load = new List<(double Seconds, long Peak)>();
        for (var i = 0; i < repeats; i++)
        {
            raw.Add(ChildRun.Measure("raw", path));
            load.Add(ChildRun.Measure("load", path));
        }

        var rawBest = raw.MinBy(r => r.Seconds);
        var loadBest = load.MinBy(r => r.Seconds);
        AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 120);
        var table = new Table().Title($"SD 1.5 single-file load ({size / 1e9:F2} GB, float32, best of {repeats})")
            .AddColumns("measurement", "time (s)", "peak RSS (GB)", "time / raw read", "peak / file size");
        table.AddRow("raw read into one buffer (baseline)", F(rawBest.Seconds), F(rawBest.Peak / 1e9), "1.00", F((double)rawBest.Peak / size));
        table.AddRow("SingleFileFormat.Load (UNet + VAE + CLIP, strict)", F(loadBest.Seconds), F(loadBest.Peak / 1e9), F(loadBest.Seconds / rawBest.Seconds), F((double)loadBest.Peak / size));
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"Targets: load ≤ 1.5× raw read time ([{(loadBest.Seconds <= 1.5 * rawBest.Seconds ? "green" : "red")}]{loadBest.Seconds / rawBest.Seconds:F2}×[/]), peak memory ≤ 1.3× file size ([{(loadBest.Peak <= 1.3 * size ? "green" : "red")}]{(double)loadBest.Peak / size:F2}×[/]).");
        return 0;
    }

    /// <summary>Child: read the whole file into one freshly allocated native buffer.</summary>
    public static void ChildRaw(string path)
    {
        var clock = Stopwatch.StartNew();
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
        var length = RandomAccess.GetLength(handle);
        using var buffer = empty(length, ScalarType.Byte);
        ReadAll(handle, buffer, length);
        clock.Stop();
        ChildRun.Report(clock.Elapsed.TotalSeconds, ProcessMemory.PeakResidentBytes());
    }

    /// <summary>Child: load the checkpoint as a model.</summary>
    public static void ChildLoad(string path)
    {
        var clock = Stopwatch.StartNew();
        using var model = SingleFileFormat.Load(path);
        clock.Stop();
        ChildRun.Report(clock.Elapsed.TotalSeconds, ProcessMemory.PeakResidentBytes());
    }

    private static void ReadAll(SafeFileHandle handle, Tensor buffer, long length)
    {
        const int chunk = 1 << 26;
        for (long done = 0; done < length;)
        {
            var span = NativeTensorMemory.Bytes(buffer, done, (int)Math.Min(chunk, length - done));
            var read = RandomAccess.Read(handle, span, done);
            if (read <= 0)
            {
                throw new EndOfStreamException();
            }

            done += read;
        }
    }

    private static void WriteRandomCheckpoint(string path)
    {
        using var model = RandomModels.Create(StableDiffusionPresets.Sd15, seed: 1234);
        SingleFileFormat.Save(model, path);
    }

    private static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
