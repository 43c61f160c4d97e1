using System.Globalization;
using SdTune.Options;

namespace SdTune.Training;

/// <summary>
/// The sample prompts text file of sd-scripts: one prompt a line, <c>#</c> lines are comments, and options follow the
/// prompt as <c>--n</c> (negative prompt), <c>--w</c>/<c>--h</c> (size), <c>--s</c> (steps), <c>--l</c> (CFG scale) and
/// <c>--d</c> (seed). The line is split on " --"; unknown options are ignored, as sd-scripts does. Sizes not given are
/// the model's own; numbers are checked as <c>sdtune generate</c> checks them.
/// </summary>
public static class SamplePromptFile
{
    /// <summary>Reads a prompts file.</summary>
    /// <exception cref="TrainingConfigException">The file is missing or an option value is malformed (the message names the line).</exception>
    public static IReadOnlyList<SamplePrompt> Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new TrainingConfigException("sample_prompts", $"file not found: {path}");
        }

        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses prompts file text.</summary>
    /// <exception cref="TrainingConfigException">An option value is malformed (the message names the line).</exception>
    public static IReadOnlyList<SamplePrompt> Parse(string text, string sourceName = "sample_prompts")
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<SamplePrompt>();
        var lines = text.Split('\n');
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            result.Add(ParseLine(line, $"{sourceName}:{n + 1}"));
        }

        return result;
    }

    /// <summary>Parses one line.</summary>
    /// <exception cref="TrainingConfigException">An option value is malformed.</exception>
    public static SamplePrompt ParseLine(string line, string where = "sample prompt")
    {
        ArgumentNullException.ThrowIfNull(line);
        var parts = line.Split(" --");
        var prompt = new SamplePrompt(parts[0].Trim());
        foreach (var part in parts.Skip(1))
        {
            var space = part.IndexOf(' ', StringComparison.Ordinal);
            var option = space < 0 ? part.Trim() : part[..space];
            var value = space < 0 ? "" : part[(space + 1)..].Trim();
            prompt = option switch
            {
                "n" => prompt with { NegativePrompt = value },
                "w" => prompt with { Width = (int)Number(value, option, where, NumericRange.ImageSide) },
                "h" => prompt with { Height = (int)Number(value, option, where, NumericRange.ImageSide) },
                "s" => prompt with { Steps = (int)Math.Clamp(Number(value, option, where, NumericRange.Count()), 1, 1000) },
                "l" => prompt with { CfgScale = Number(value, option, where, NumericRange.NonNegativeFloat32) },
                "d" => prompt with { Seed = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : throw Bad(value, option, where) },
                _ => prompt,
            };
        }

        return prompt;
    }

    private static double Number(string value, string option, string where, NumericRange range) =>
        range.Read(value, out var number) is { } problem ? throw new TrainingConfigException("sample_prompts", $"{where}: --{option} {problem}") : number;

    private static TrainingConfigException Bad(string value, string option, string where) =>
        new("sample_prompts", $"{where}: --{option} \"{value}\" is not a valid value.");
}
