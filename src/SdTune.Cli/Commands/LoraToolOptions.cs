using System.CommandLine;
using System.Globalization;
using SdTune.Workshop.Lora;
using static TorchSharp.torch;

namespace SdTune.Cli.Commands;

/// <summary>The options the <c>sdtune lora</c> subcommands share, how they are read, and how a tool's report is printed.</summary>
internal static class LoraToolOptions
{
    public static Option<string> Out(string what) => new("--out") { Description = what, Required = true };

    public static Option<string?> DType() => new("--dtype") { Description = "Type of the written tensors: fp32 (default), fp16 or bf16." };

    public static Option<string?> Model() => new("--model") { Description = "The base model the LoRAs are for; only needed for models other than the published SD 1.x, SD 2.x and SDXL (their layers are built without weights)." };

    public static Option<int?> ConvRank(string what) => new("--conv-rank") { Description = what };

    public static Option<string?> DynamicMethod() => new("--dynamic-method") { Description = "Choose each module's rank (at most --rank): sv_ratio, sv_fro or sv_cumulative (kohya's methods)." };

    public static Option<double?> DynamicParam() => new("--dynamic-param") { Description = "The dynamic method's parameter: sv_ratio ≥ 1 (keep singular values ≥ largest / ratio); sv_fro and sv_cumulative in (0, 1] (fraction of the Frobenius norm or of the singular-value sum kept)." };

    public static Option<bool> Verbose() => new("--verbose") { Description = "Print one line per module (kept rank, retained Frobenius norm, relative error)." };

    /// <summary>The save type an option names; null when it is not given.</summary>
    public static ScalarType? ParseDType(string? text) => text is null ? null : GenerateCommand.ParseDType(text);

    /// <summary>Comma-separated numbers; the error names the option.</summary>
    public static List<double> Numbers(string text, string option) =>
        [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(v =>
            double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : throw new ArgumentException($"{option}: '{v}' is not a number."))];

    /// <summary>A rank rule from <c>--rank</c> (or <c>--conv-rank</c>) and the dynamic options.</summary>
    public static LowRankRule Rule(int rank, string rankOption, string? method, double? parameter)
    {
        var dynamic = LowRankRule.ParseMethod(method);
        if (dynamic == DynamicRankMethod.None && parameter is not null)
        {
            throw new ArgumentException($"{LowRankRule.ParameterOption} needs --dynamic-method.");
        }

        if (dynamic != DynamicRankMethod.None && parameter is null)
        {
            throw new ArgumentException($"--dynamic-method {LowRankRule.MethodName(dynamic)} needs {LowRankRule.ParameterOption}.");
        }

        var rule = new LowRankRule(rank, dynamic, parameter ?? 0, rankOption);
        rule.Validate();
        return rule;
    }

    /// <summary>Prints what a tool wrote: a summary line, the notes, and with <paramref name="verbose"/> one line per module.</summary>
    public static void Print(LoraToolResult result, bool verbose)
    {
        foreach (var note in result.Notes)
        {
            Console.Error.WriteLine($"note: {note}");
        }

        if (verbose)
        {
            foreach (var m in result.Modules)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{m.Module}  rank {m.InputRank} -> {m.Rank}  retained Frobenius {m.RetainedFrobenius * 100:F2}%  relative error {m.RelativeError:G4}"));
            }
        }

        if (result.Modules.Count > 0)
        {
            var ranks = result.Modules.Select(m => m.Rank).ToList();
            var rank = ranks.Min() == ranks.Max() ? $"rank {ranks[0]}" : $"ranks {ranks.Min()}..{ranks.Max()}";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Modules.Count} modules, {rank}; relative Frobenius error mean {result.Modules.Average(m => m.RelativeError):G4}, max {result.MaxRelativeError:G4} ({result.Modules.MaxBy(m => m.RelativeError)!.Module})"));
        }

        Console.WriteLine($"wrote {result.Output}");
    }
}
