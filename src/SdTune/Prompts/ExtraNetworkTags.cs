using System.Text;

namespace SdTune.Prompts;

/// <summary>
/// Finds extra-network tags, <c>&lt;kind:arguments&gt;</c> where kind is a word (letters, digits, underscore) and the
/// arguments are any non-empty text without <c>&gt;</c>. This is the first step of prompt processing: the tags select
/// networks (LoRA, hypernetworks) and are removed from the text the encoder sees.
/// </summary>
public static class ExtraNetworkTags
{
    /// <summary>Removes every tag from a prompt and returns the tags.</summary>
    /// <param name="prompt">The prompt as the user wrote it.</param>
    /// <returns>The prompt without tags, and the tags in order.</returns>
    public static ExtractedExtraNetworks Extract(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var text = new StringBuilder(prompt.Length);
        var tags = new List<ExtraNetworkTag>();
        int pos = 0;
        while (pos < prompt.Length)
        {
            if (prompt[pos] == '<' && TryReadTag(prompt, pos, out var tag, out int end))
            {
                tags.Add(tag);
                pos = end;
            }
            else
            {
                text.Append(prompt[pos]);
                pos++;
            }
        }

        return new ExtractedExtraNetworks(text.ToString(), tags);
    }

    private static bool TryReadTag(string prompt, int open, out ExtraNetworkTag tag, out int end)
    {
        tag = null!;
        end = open;
        int p = open + 1;
        while (p < prompt.Length && PythonText.IsWordChar(prompt[p]))
        {
            p++;
        }

        if (p == open + 1 || p >= prompt.Length || prompt[p] != ':')
        {
            return false;
        }

        string kind = prompt[(open + 1)..p];
        int close = prompt.IndexOf('>', p + 1);
        if (close < 0 || close == p + 1)
        {
            return false;
        }

        string[] items = prompt[(p + 1)..close].Split(':');
        var positional = new List<string>();
        var named = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string item in items)
        {
            // Exactly one '=' makes a named argument; "a=b=c" stays positional (as the web UI reads it).
            int eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0 && item.IndexOf('=', eq + 1) < 0)
            {
                named[item[..eq]] = item[(eq + 1)..];
            }
            else
            {
                positional.Add(item);
            }
        }

        tag = new ExtraNetworkTag(kind, items, positional, named);
        end = close + 1;
        return true;
    }
}
