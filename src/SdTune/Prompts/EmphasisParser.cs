namespace SdTune.Prompts;

/// <summary>
/// Splits prompt text into runs with attention weights, following the web UI's emphasis syntax:
/// <c>(text)</c> multiplies by 1.1, <c>[text]</c> divides by 1.1, <c>(text:1.5)</c> multiplies by 1.5 instead of 1.1;
/// nested brackets multiply; <c>\(</c> <c>\)</c> <c>\[</c> <c>\]</c> <c>\\</c> are literal characters; brackets left open
/// are closed at the end of the text; a closing bracket with nothing open is literal text. The keyword <c>BREAK</c> (upper
/// case, a word on its own; surrounding whitespace is dropped) becomes <see cref="WeightedText.Break"/>. Adjacent runs
/// whose weights are exactly equal are merged.
/// </summary>
public static class EmphasisParser
{
    /// <summary>The multiplier of a <c>( )</c> pair without an explicit weight.</summary>
    public const double RoundBracketMultiplier = 1.1;

    /// <summary>The multiplier of a <c>[ ]</c> pair.</summary>
    public const double SquareBracketMultiplier = 1 / 1.1;

    /// <summary>Parses emphasis and BREAK in one (already scheduled) prompt text.</summary>
    /// <param name="text">The prompt text.</param>
    /// <returns>The runs in order; never empty (an empty prompt gives one empty run of weight 1).</returns>
    /// <exception cref="PromptSyntaxException">An explicit weight such as <c>(a:1.2.3)</c> is not a number.</exception>
    public static IReadOnlyList<WeightedText> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var runs = new List<(string Text, double Weight)>();
        var openRound = new List<int>();
        var openSquare = new List<int>();

        void MultiplyFrom(int start, double multiplier)
        {
            for (int i = start; i < runs.Count; i++)
            {
                runs[i] = (runs[i].Text, runs[i].Weight * multiplier);
            }
        }

        void AddPlain(string plain)
        {
            bool first = true;
            foreach (string part in SplitOnBreak(plain))
            {
                if (!first)
                {
                    runs.Add((WeightedText.Break.Text, WeightedText.Break.Weight));
                }

                runs.Add((part, 1.0));
                first = false;
            }
        }

        int pos = 0;
        while (pos < text.Length)
        {
            char c = text[pos];
            switch (c)
            {
                case '\\':
                    // A backslash escapes ( ) [ ] \; a lone backslash is dropped (it still separates runs).
                    if (pos + 1 < text.Length && text[pos + 1] is '(' or ')' or '[' or ']' or '\\')
                    {
                        runs.Add((text[pos + 1].ToString(), 1.0));
                        pos += 2;
                    }
                    else
                    {
                        runs.Add((string.Empty, 1.0));
                        pos++;
                    }

                    break;
                case '(':
                    openRound.Add(runs.Count);
                    pos++;
                    break;
                case '[':
                    openSquare.Add(runs.Count);
                    pos++;
                    break;
                case ':':
                    int end = MatchWeightClose(text, pos, out string? weightText);
                    if (weightText is not null && openRound.Count > 0)
                    {
                        if (!PythonText.TryParseFloat(weightText, out double weight))
                        {
                            throw new PromptSyntaxException(
                                $"Emphasis weight '{weightText}' in \"{text[pos..end]}\" is not a number (prompt: \"{text}\").");
                        }

                        MultiplyFrom(Pop(openRound), weight);
                    }
                    else
                    {
                        AddPlain(text[pos..end]); // ":" alone, or ":1.2)" with no "(" open
                    }

                    pos = end;
                    break;
                case ')':
                    if (openRound.Count > 0)
                    {
                        MultiplyFrom(Pop(openRound), RoundBracketMultiplier);
                    }
                    else
                    {
                        AddPlain(")");
                    }

                    pos++;
                    break;
                case ']':
                    if (openSquare.Count > 0)
                    {
                        MultiplyFrom(Pop(openSquare), SquareBracketMultiplier);
                    }
                    else
                    {
                        AddPlain("]");
                    }

                    pos++;
                    break;
                default:
                    int stop = pos;
                    while (stop < text.Length && text[stop] is not ('\\' or '(' or ')' or '[' or ']' or ':'))
                    {
                        stop++;
                    }

                    AddPlain(text[pos..stop]);
                    pos = stop;
                    break;
            }
        }

        foreach (int start in openRound)
        {
            MultiplyFrom(start, RoundBracketMultiplier);
        }

        foreach (int start in openSquare)
        {
            MultiplyFrom(start, SquareBracketMultiplier);
        }

        if (runs.Count == 0)
        {
            return [new WeightedText(string.Empty, 1.0)];
        }

        var merged = new List<WeightedText> { new(runs[0].Text, runs[0].Weight) };
        for (int i = 1; i < runs.Count; i++)
        {
            var last = merged[^1];
            if (last.Weight == runs[i].Weight)
            {
                merged[^1] = last with { Text = last.Text + runs[i].Text };
            }
            else
            {
                merged.Add(new WeightedText(runs[i].Text, runs[i].Weight));
            }
        }

        return merged;
    }

    /// <summary>
    /// At a colon, matches <c>: [ws] [+-] [.digits]+ [ws] )</c>. Returns the end of the match and the number's text, or the
    /// position after the lone colon and null.
    /// </summary>
    private static int MatchWeightClose(string text, int colon, out string? weightText)
    {
        weightText = null;
        int p = colon + 1;
        while (p < text.Length && PythonText.IsWhitespace(text[p]))
        {
            p++;
        }

        int start = p;
        if (p < text.Length && text[p] is '+' or '-')
        {
            p++;
        }

        int body = p;
        while (p < text.Length && (text[p] == '.' || PythonText.IsDigit(text[p])))
        {
            p++;
        }

        if (p == body)
        {
            return colon + 1;
        }

        int numberEnd = p;
        while (p < text.Length && PythonText.IsWhitespace(text[p]))
        {
            p++;
        }

        if (p >= text.Length || text[p] != ')')
        {
            return colon + 1;
        }

        weightText = text[start..numberEnd];
        return p + 1;
    }

    /// <summary>Splits plain text at each <c>BREAK</c> keyword, dropping the whitespace around it.</summary>
    internal static List<string> SplitOnBreak(string text)
    {
        const string keyword = "BREAK";
        var parts = new List<string>();
        int cursor = 0;
        int search = 0;
        while (true)
        {
            int k = text.IndexOf(keyword, search, StringComparison.Ordinal);
            if (k < 0)
            {
                break;
            }

            int after = k + keyword.Length;
            bool boundaryBefore = k == 0 || !PythonText.IsWordChar(text[k - 1]);
            bool boundaryAfter = after == text.Length || !PythonText.IsWordChar(text[after]);
            if (!boundaryBefore || !boundaryAfter)
            {
                search = k + 1;
                continue;
            }

            int matchStart = k;
            while (matchStart > cursor && PythonText.IsWhitespace(text[matchStart - 1]))
            {
                matchStart--;
            }

            int matchEnd = after;
            while (matchEnd < text.Length && PythonText.IsWhitespace(text[matchEnd]))
            {
                matchEnd++;
            }

            parts.Add(text[cursor..matchStart]);
            cursor = matchEnd;
            search = matchEnd;
        }

        parts.Add(text[cursor..]);
        return parts;
    }

    private static int Pop(List<int> stack)
    {
        int value = stack[^1];
        stack.RemoveAt(stack.Count - 1);
        return value;
    }
}
