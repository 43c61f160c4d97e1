using System.Diagnostics;
using System.Globalization;
using System.Text;
using SdTune.Bench.Infrastructure;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using SdTune.Runtime;
using Spectre.Console;

namespace SdTune.Bench.Benchmarks;

/// <summary>
/// Time and peak memory of opening safetensors headers at and beyond the reader's limits (32 MiB, 100,000 tensors),
/// against opening a tiny file, each in its own process. The 100 MB / 1.7 million tensor header is the size the
/// reference reader accepts; the limits refuse it from its length field.
/// </summary>
internal static class HeaderLimitBenchmark
{
    public static int Run(string workFolder)
    {
        Directory.CreateDirectory(workFolder);
        var cases = new (string Name, string File, string Expect, Action<string> Write)[]
        {
            ("tiny file (baseline)", "tiny.safetensors", "load", path => WriteTensors(path, 1, 0)),
            ("100,000 tensors, header just under 32 MiB", "tensor-limit.safetensors", "load", path => WriteTensors(path, SafetensorsHeader.MaxTensorCount, SafetensorsHeader.MaxHeaderBytes)),
            ("one 32 MiB metadata value", "metadata-limit.safetensors", "load", WriteBigMetadata),
            ("100,001 tensors (refused while parsing)", "too-many.safetensors", "refuse", path => WriteTensors(path, SafetensorsHeader.MaxTensorCount + 1, 0)),
            ("100 MB header, 1.7 M tensors (refused by length)", "huge.safetensors", "refuse", path => WriteTensors(path, 1_700_000, 100_000_000)),
        };

        AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 120);
        var table = new Table().Title("Opening safetensors headers at the limits (SafetensorsFile.Open, each in its own process)")
            .AddColumns("header", "size (MB)", "outcome", "time (s)", "peak RSS (MB)", "peak above baseline (MB)");
        long? baseline = null;
        foreach (var (name, file, expect, write) in cases)
        {
            var path = Path.Combine(workFolder, file);
            if (!File.Exists(path))
            {
                write(path);
            }

            var (seconds, peak) = Enumerable.Range(0, 3).Select(_ => ChildRun.Measure("header", path, expect)).MinBy(r => r.PeakBytes);
            baseline ??= peak;
            var headerBytes = BitConverter.ToInt64(File.ReadAllBytes(path).AsSpan(0, 8));
            table.AddRow(name, F(headerBytes / 1e6), expect == "load" ? "loaded" : "refused", F(seconds), F(peak / 1e6), F((peak - baseline.Value) / 1e6));
        }

        AnsiConsole.Write(table);
        return 0;
    }

    /// <summary>Child: open the file and check the outcome is the expected one.</summary>
    public static void Child(string path, string expect)
    {
        var clock = Stopwatch.StartNew();
        string outcome;
        try
        {
            using var file = SafetensorsFile.Open(path);
            outcome = "load";
        }
        catch (CheckpointFormatException)
        {
            outcome = "refuse";
        }

        clock.Stop();
        if (outcome != expect)
        {
            throw new InvalidOperationException($"{path}: expected to {expect}, but it did {outcome}.");
        }

        ChildRun.Report(clock.Elapsed.TotalSeconds, ProcessMemory.PeakResidentBytes());
    }

    // Empty F32 tensors with names padded so the header comes to about targetBytes (0: short names). A header longer
    // than the file's data section can hold is written sparse: only its length field is read before it is refused.
    private static void WriteTensors(string path, int count, long targetBytes)
    {
        const string Entry = "\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}";
        var perTensor = targetBytes == 0 ? 12 : (int)Math.Min((targetBytes - 2) / count - Entry.Length - 3, 10_000);
        if (targetBytes > SafetensorsHeader.MaxHeaderBytes)
        {
            using var sparse = File.Create(path);
            sparse.Write(BitConverter.GetBytes(targetBytes));
            sparse.SetLength(8 + targetBytes);
            return;
        }

        var header = new StringBuilder("{");
        for (var i = 0; i < count; i++)
        {
            var id = i.ToString("D8", CultureInfo.InvariantCulture);
            header.Append(i > 0 ? ",\"" : "\"").Append(id).Append('x', Math.Max(0, perTensor - id.Length)).Append(Entry);
        }

        WriteHeader(path, header.Append('}').ToString());
    }

    private static void WriteBigMetadata(string path)
    {
        const string Start = "{\"__metadata__\":{\"ss_tag_frequency\":\"";
        const string End = "\"}}";
        WriteHeader(path, Start + new string('t', (int)SafetensorsHeader.MaxHeaderBytes - Start.Length - End.Length) + End);
    }

    private static void WriteHeader(string path, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        using var file = File.Create(path);
        file.Write(BitConverter.GetBytes((long)bytes.Length));
        file.Write(bytes);
    }

    private static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
