using System.CommandLine;
using System.Globalization;
using SdTune.Options;
using SdTune.Runtime;

namespace SdTune.Cli;

/// <summary>
/// <c>--threads N</c>, accepted by every command: how many threads libtorch computes with. Without it libtorch keeps
/// its default (one per core).
/// </summary>
internal static class ThreadsOption
{
    /// <summary>The option's name.</summary>
    public const string Name = "--threads";

    /// <summary>The values accepted: 1 to <see cref="TorchThreads.Max"/>.</summary>
    public static NumericRange Range { get; } = NumericRange.Count(TorchThreads.Max);

    /// <summary>A new <c>--threads</c> option for a root command; it applies to the root's subcommands too.</summary>
    public static Option<string?> Create()
    {
        var option = new Option<string?>(Name)
        {
            Description = $"Threads libtorch computes with on the CPU, 1 to {TorchThreads.Max} (default: libtorch's, one per core). The same seed and thread count give the same numbers.",
            HelpName = "N",
            Recursive = true,
        };
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && Range.Read(result.Tokens[^1].Value, out _) is { } problem)
            {
                result.AddError(problem);
            }
        });
        return option;
    }

    /// <summary>Applies the value given to <paramref name="option"/>, if any, with <see cref="TorchThreads.Set"/>.</summary>
    public static void Apply(ParseResult parse, Option<string?> option)
    {
        if (parse.GetValue(option) is { } text)
        {
            TorchThreads.Set(int.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture));
        }
    }
}
