using System.Text;

namespace SdTune.Training.Data;

/// <summary>Reads the caption file that goes with an image, following sd-scripts' rules.</summary>
public static class CaptionFiles
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The caption file candidates for an image: <c>&lt;basename&gt;&lt;ext&gt;</c>, then the legacy face-crop name
    /// (the file name without its last four <c>_</c>-separated tokens, when it has at least five).
    /// </summary>
    /// <param name="imagePath">The image.</param>
    /// <param name="captionExtension">The caption extension, for example ".txt".</param>
    public static IReadOnlyList<string> Candidates(string imagePath, string captionExtension)
    {
        ArgumentNullException.ThrowIfNull(imagePath);
        ArgumentNullException.ThrowIfNull(captionExtension);
        var directory = Path.GetDirectoryName(imagePath) ?? "";
        var stem = Path.GetFileNameWithoutExtension(imagePath);
        var result = new List<string> { Path.Combine(directory, stem + captionExtension) };
        var tokens = stem.Split('_');
        if (tokens.Length >= 5)
        {
            result.Add(Path.Combine(directory, string.Join('_', tokens[..^4]) + captionExtension));
        }

        return result;
    }

    /// <summary>
    /// Reads the caption of an image, or returns null when it has no caption file. Only the first line is used,
    /// unless <paramref name="enableWildcard"/>, which keeps every non-empty line (joined with "\n"; one is picked per step).
    /// </summary>
    /// <param name="imagePath">The image.</param>
    /// <param name="captionExtension">The caption extension.</param>
    /// <param name="enableWildcard">Keep all non-empty lines.</param>
    /// <exception cref="DatasetException">The caption file is empty or not UTF-8; the message names it.</exception>
    public static string? Read(string imagePath, string captionExtension, bool enableWildcard)
    {
        foreach (var candidate in Candidates(imagePath, captionExtension))
        {
            if (File.Exists(candidate))
            {
                return ReadFile(candidate, enableWildcard);
            }
        }

        return null;
    }

    private static string ReadFile(string path, bool enableWildcard)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(File.ReadAllBytes(path));
        }
        catch (DecoderFallbackException e)
        {
            throw new DatasetException(path, $"the caption file is not valid UTF-8 (byte offset {e.Index}).");
        }

        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text[1..];
        }

        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n').Split('\n');
        var caption = enableWildcard
            ? string.Join('\n', lines.Select(l => l.Trim()).Where(l => l.Length > 0))
            : lines[0].Trim();
        return caption.Length == 0
            ? throw new DatasetException(path, enableWildcard ? "the caption file is empty." : "the caption file is empty (its first line is blank).")
            : caption;
    }
}
