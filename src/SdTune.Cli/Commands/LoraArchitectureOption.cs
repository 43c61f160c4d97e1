using System.CommandLine;
using SdTune.Models;

namespace SdTune.Cli.Commands;

/// <summary>The <c>--architecture sd1|sd2|sdxl</c> option of the LoRA file tools (absent: told from the file).</summary>
internal static class LoraArchitectureOption
{
    private static readonly (string Name, SdArchitecture Architecture)[] Names =
        [("sd1", SdArchitecture.SD1), ("sd2", SdArchitecture.SD2), ("sdxl", SdArchitecture.SdxlBase)];

    public static Option<string?> Create()
    {
        var option = new Option<string?>("--architecture")
        {
            Description = "The model family the LoRA is for: sd1, sd2 or sdxl (default: told from its tensor names and shapes).",
        };
        option.AcceptOnlyFromAmong([.. Names.Select(n => n.Name)]);
        return option;
    }

    public static SdArchitecture? Value(ParseResult parse, Option<string?> option)
    {
        var name = parse.GetValue(option);
        return name is null ? null : Names.Single(n => n.Name == name).Architecture;
    }
}
