using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using SdTune.Bench.Infrastructure;
using SdTune.Checkpoints.Safetensors;
using SdTune.Runtime;
using SdTune.Workshop.Merge;
using Spectre.Console;
using static TorchSharp.torch;

namespace SdTune.Bench.Benchmarks;

/// <summary>
/// Peak memory of an add-difference merge of three full-size checkpoints (the real names and shapes of the model's
/// manifest, float16, constant values) against the size of one checkpoint, measured in the same run. The merge runs in
/// its own process, so its peak resident memory is its own; a process that only starts libtorch is measured beside it.
/// </summary>
internal static class CheckpointMergeBenchmark
{
    private static readonly Dictionary<string, string> Manifests = new(StringComparer.Ordinal)
    {
        ["sdxl"] = "sdxl_base.original.json",
        ["sd15"] = "sd15.original.json",
    };

    public static int Run(string workFolder, string model, bool keep)
    {
        if (!Manifests.TryGetValue(model, out var manifest))
        {
            Console.Error.WriteLine($"unknown model '{model}'; known: {string.Join(", ", Manifests.Keys)}");
            return 2;
        }

        var folder = Path.Combine(workFolder, "merge-" + model);
        Directory.CreateDirectory(folder);
        var layout = Layout(manifest);
        var inputs = new[] { "a", "b", "c" }.Select(n => Path.Combine(folder, n + ".safetensors")).ToArray();
        var output = Path.Combine(folder, "merged.safetensors");
        try
        {
            var writing = Stopwatch.StartNew();
            for (var i = 0; i < inputs.Length; i++)
            {
                if (!File.Exists(inputs[i]))
                {
                    AnsiConsole.MarkupLine($"Writing [blue]{Markup.Escape(inputs[i])}[/] ({layout.Sum(l => l.ByteLength) / 1e9:F2} GB, float16)...");
                    var value = 0.1 * (i + 1);
                    SafetensorsWriter.Save(inputs[i], layout, t => layout[t].DType == SafetensorsDType.F16
                        ? full([.. layout[t].Shape], value, ScalarType.Float16)
                        : zeros([.. layout[t].Shape], ScalarType.Int64));
                }
            }

            AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture, $"Inputs ready in {writing.Elapsed.TotalSeconds:F0} s. Merging in a child process..."));
            var size = new FileInfo(inputs[0]).Length;
            var idle = ChildRun.Measure("merge-idle", "-");
            var merge = ChildRun.Measure("merge", [.. inputs, output]);

            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 120);
            var table = new Table().Title($"Add-difference merge of three {model} checkpoints ({size / 1e9:F2} GB each, float16; each process on its own)")
                .AddColumns("measurement", "time (s)", "peak RSS (GB)", "× one checkpoint");
            table.AddRow("one checkpoint's file size (baseline)", "", F(size / 1e9), "1.00");
            table.AddRow("process that only starts libtorch", F(idle.Seconds), F(idle.PeakBytes / 1e9), F((double)idle.PeakBytes / size));
            table.AddRow("sdtune merge A B C (add difference, alpha 0.5)", F(merge.Seconds), F(merge.PeakBytes / 1e9), F((double)merge.PeakBytes / size));
            AnsiConsole.Write(table);
            var met = merge.PeakBytes <= 1.5 * size;
            AnsiConsole.MarkupLine($"Target: peak ≤ 1.5× one checkpoint ([{(met ? "green" : "red")}]{(double)merge.PeakBytes / size:F2}×[/]).");
            return met ? 0 : 1;
        }
        finally
        {
            if (!keep)
            {
                foreach (var file in inputs.Append(output).Where(File.Exists))
                {
                    File.Delete(file);
                }
            }
        }
    }

    /// <summary>Child: the merge itself.</summary>
    public static void Child(string a, string b, string c, string output)
    {
        var clock = Stopwatch.StartNew();
        CheckpointMerge.Run(new MergeRecipe { ModelA = a, ModelB = b, ModelC = c, Mode = MergeMode.AddDifference, Alpha = 0.5, Output = output });
        clock.Stop();
        ChildRun.Report(clock.Elapsed.TotalSeconds, ProcessMemory.PeakResidentBytes());
    }

    /// <summary>Child: libtorch started and one small tensor made, nothing read.</summary>
    public static void ChildIdle()
    {
        var clock = Stopwatch.StartNew();
        using var tensor = ones(16);
        clock.Stop();
        ChildRun.Report(clock.Elapsed.TotalSeconds, ProcessMemory.PeakResidentBytes());
    }

    /// <summary>The manifest's tensors as float16 (integer buffers as int64).</summary>
    private static List<SafetensorsTensorLayout> Layout(string manifest)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryRoot(), "tests", "fixtures", "manifests", manifest)))!;
        return [.. json["tensors"]!.AsArray().Select(t => new SafetensorsTensorLayout(
            t!["name"]!.GetValue<string>(),
            t["dtype"]!.GetValue<string>() == "int64" ? SafetensorsDType.I64 : SafetensorsDType.F16,
            [.. t["shape"]!.AsArray().Select(d => d!.GetValue<long>())]))];
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SdTune.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (SdTune.slnx) above " + AppContext.BaseDirectory);
    }

    private static string F(double value) => value.ToString("F2", CultureInfo.InvariantCulture);
}
