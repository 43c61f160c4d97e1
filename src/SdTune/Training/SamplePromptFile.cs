using System.Globalization;

namespace SdTune.Training;

/// <summary>
/// The sample prompts text file of sd-scripts: one prompt a line, <c>#</c> lines are comments, and options follow the
/// prompt as <c>--n</c> (negative prompt), <c>--w</c>/<c>--h</c> (size), <c>--s</c> (steps), <c>--l</c> (CFG scale) and
/// <c>--d</c> (seed). The line is split on " --"; unknown options are ignored, as sd-scripts does.
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
                "w" => prompt with { Width = Int(value, option, where) },
                "h" => prompt with { Height = Int(value, option, where) },
                "s" => prompt with { Steps = Math.Clamp(Int(value, option, where), 1, 1000) },
                "l" => prompt with { CfgScale = Real(value, option, where) },
                "d" => prompt with { Seed = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seed) ? seed : throw Bad(value, option, where) },
                _ => prompt,
            };
        }

        return prompt;
    }

    private static int Int(string value, string option, string where) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : throw Bad(value, option, where);

    private static double Real(string value, string option, string where) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : throw Bad(value, option, where);

    private static TrainingConfigException Bad(string value, string option, string where) =>
        new("sample_prompts", $"{where}: --{option} \"{value}\" is not a valid value.");
}
