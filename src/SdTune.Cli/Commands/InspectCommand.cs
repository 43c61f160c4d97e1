using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using SdTune.Checkpoints.Inspection;
using SdTune.Cli.Output;
using Spectre.Console;

namespace SdTune.Cli.Commands;

/// <summary><c>sdtune inspect PATH [--json]</c>: what a model file or folder is.</summary>
internal static class InspectCommand
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "A .safetensors/.ckpt/.pt/.bin file or a diffusers folder." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var command = new Command("inspect", "Tell what a model file or folder is: checkpoint (SD1/SD2/SDXL), VAE, LoRA and its flavour, embedding, hypernetwork...")
        {
            path,
            json,
        };
        command.SetAction(parse =>
        {
            var report = ModelInspector.Inspect(parse.GetRequiredValue(path));
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(report, Json));
            }
            else
            {
                Print(CliConsole.Out(), report, 0);
            }

            return 0;
        });
        return command;
    }

    private static void Print(IAnsiConsole console, InspectionReport report, int depth)
    {
        var indent = new string(' ', depth * 2);
        var table = new Table().HideHeaders().Border(depth == 0 ? TableBorder.Rounded : TableBorder.Minimal).AddColumns("", "");
        table.AddRow("path", Markup.Escape(report.Path));
        table.AddRow("kind", $"[bold]{report.Kind}[/]");
        table.AddRow("architecture", report.Architecture.ToString());
        if (report.Flavour is not null)
        {
            table.AddRow("flavour", Markup.Escape(report.Flavour));
        }

        table.AddRow("format", report.Format);
        table.AddRow("tensors", report.TensorCount.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("parameters", report.ParameterCount.ToString("N0", CultureInfo.InvariantCulture));
        table.AddRow("dtypes", Markup.Escape(string.Join(", ", report.DTypes.Select(d => $"{d.Key}: {d.Value}"))));
        foreach (var (key, value) in report.Metadata.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            table.AddRow(Markup.Escape(key), Markup.Escape(value.Length > 200 ? value[..200] + "..." : value));
        }

        foreach (var note in report.Notes)
        {
            table.AddRow("note", Markup.Escape(note));
        }

        if (depth > 0)
        {
            console.WriteLine(indent + "component:");
        }

        console.Write(table);
        foreach (var component in report.Components.Where(c => c.Path != report.Path || report.Components.Count > 1))
        {
            Print(console, component, depth + 1);
        }
    }
}
