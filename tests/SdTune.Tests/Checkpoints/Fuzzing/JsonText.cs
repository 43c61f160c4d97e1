using System.Globalization;
using System.Text;

namespace SdTune.Tests.Checkpoints.Fuzzing;

/// <summary>
/// A JSON tree that keeps exactly what a mutation wrote: strings hold their escaped text as it will appear
/// between the quotes, numbers and literals their raw text, so invalid escapes, numbers and duplicate members
/// survive rendering.
/// </summary>
internal abstract record JsonText
{
    public abstract void Render(StringBuilder text, Random random, bool spaced);

    /// <summary>Whitespace between tokens when <paramref name="spaced"/> (what pretty printers and hand edits add).</summary>
    protected static void Space(StringBuilder text, Random random, bool spaced)
    {
        if (spaced && random.Next(3) == 0)
        {
            text.Append(" \n\t\r"[random.Next(4)]);
        }
    }
}

/// <summary>An object; members keep their order and may repeat keys.</summary>
internal sealed record JsonObjectText(List<(JsonStringText Key, JsonText Value)> Members) : JsonText
{
    public override void Render(StringBuilder text, Random random, bool spaced)
    {
        text.Append('{');
        for (var i = 0; i < Members.Count; i++)
        {
            Space(text, random, spaced);
            Members[i].Key.Render(text, random, spaced);
            Space(text, random, spaced);
            text.Append(':');
            Space(text, random, spaced);
            Members[i].Value.Render(text, random, spaced);
            Space(text, random, spaced);
            text.Append(i + 1 < Members.Count ? "," : "");
        }

        text.Append('}');
    }

    /// <summary>The first member whose key's content is <paramref name="key"/>, however it is escaped.</summary>
    public JsonText? Get(string key) => Members.FirstOrDefault(m => m.Key.Content == key).Value;
}

/// <summary>An array.</summary>
internal sealed record JsonArrayText(List<JsonText> Items) : JsonText
{
    public override void Render(StringBuilder text, Random random, bool spaced)
    {
        text.Append('[');
        for (var i = 0; i < Items.Count; i++)
        {
            Space(text, random, spaced);
            Items[i].Render(text, random, spaced);
            text.Append(i + 1 < Items.Count ? "," : "");
        }

        text.Append(']');
    }
}

/// <summary>A string, as its escaped text between the quotes.</summary>
internal sealed record JsonStringText(string Escaped) : JsonText
{
    /// <summary>A string whose content is <paramref name="value"/>, escaped as JSON requires.</summary>
    public static JsonStringText Of(string value)
    {
        var text = new StringBuilder();
        foreach (var c in value)
        {
            text.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                < ' ' => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return new JsonStringText(text.ToString());
    }

    /// <summary>The characters the escaped text stands for (lone surrogates kept as they are).</summary>
    public string Content
    {
        get
        {
            var content = new StringBuilder();
            for (var i = 0; i < Escaped.Length; i++)
            {
                if (Escaped[i] != '\\' || i + 1 == Escaped.Length)
                {
                    content.Append(Escaped[i]);
                    continue;
                }

                var e = Escaped[++i];
                if (e == 'u' && i + 4 < Escaped.Length && ushort.TryParse(Escaped.AsSpan(i + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var unit))
                {
                    content.Append((char)unit);
                    i += 4;
                }
                else
                {
                    content.Append(e switch { 'n' => '\n', 't' => '\t', 'r' => '\r', 'b' => '\b', 'f' => '\f', _ => e });
                }
            }

            return content.ToString();
        }
    }

    public override void Render(StringBuilder text, Random random, bool spaced) => text.Append('"').Append(Escaped).Append('"');
}

/// <summary>A number, literal or any other raw text.</summary>
internal sealed record JsonRawText(string Raw) : JsonText
{
    public override void Render(StringBuilder text, Random random, bool spaced) => text.Append(Raw);
}

/// <summary>A value nested <paramref name="Depth"/> arrays deep, rendered without recursion.</summary>
internal sealed record JsonDeepText(int Depth) : JsonText
{
    public override void Render(StringBuilder text, Random random, bool spaced) => text.Append('[', Depth).Append('1').Append(']', Depth);
}
