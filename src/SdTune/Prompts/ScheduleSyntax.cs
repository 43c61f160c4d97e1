using System.Text;

namespace SdTune.Prompts;

/// <summary>
/// Parser for the prompt-editing grammar (<c>[from:to:when]</c>, <c>[to:when]</c>, <c>[a|b|c]</c>) as the web UI
/// accepts it. The grammar, in words:
/// <list type="bullet">
/// <item>a <em>prompt</em> is a run of plain characters (anything but <c>\ [ ] ( ) : |</c>, or a backslash followed by any
/// character but a newline) and bracket groups;</item>
/// <item>a group is <c>(p)</c>, <c>(p:p)</c>, <c>[p]</c> (emphasis: kept verbatim), <c>[p:N]</c> or <c>[p:p:N]</c>
/// (scheduling; N a signed number, optionally surrounded by whitespace) or <c>[p|p|…]</c> (alternation; options may be
/// empty);</item>
/// <item>at the outermost level stray <c>[ ] ( ) :</c> are literal text, so an unbalanced bracket does not spoil the
/// groups after it;</item>
/// <item>a <c>|</c> outside an alternation or a trailing lone backslash makes the whole prompt unparseable.</item>
/// </list>
/// Where a bracket at the outermost level can open a complete group it does; otherwise it is literal. The reference
/// parser (an Earley parser) is ambiguous when such a group is directly followed by stray brackets or colons
/// (<c>[a:b:1]]</c>): which reading it returns depends on the Python process's hash seed, so it varies from run to run.
/// Always taking the group is one of its readings, and the only one that keeps the schedule the user wrote.
/// </summary>
internal static class ScheduleSyntax
{
    /// <summary>A node of the parsed prompt.</summary>
    internal abstract record Node;

    /// <summary>Literal text, including emphasis brackets and stray brackets that are kept as they are.</summary>
    internal sealed record Literal(string Text) : Node;

    /// <summary>Nodes rendered one after the other.</summary>
    internal sealed record Sequence(IReadOnlyList<Node> Items) : Node;

    /// <summary><c>[before:after:when]</c>; <see cref="Before"/> is null for <c>[after:when]</c>.</summary>
    internal sealed record Scheduled(Node? Before, Node After, string When) : Node;

    /// <summary><c>[a|b|…]</c>.</summary>
    internal sealed record Alternate(IReadOnlyList<Node> Options) : Node;

    /// <summary>Parses a whole prompt; null when the grammar does not accept it.</summary>
    public static Node? Parse(string prompt)
    {
        var parser = new Parser(prompt);
        return parser.ParseTopLevel();
    }

    private sealed class Parser(string text)
    {
        private readonly string _s = text;

        public Node? ParseTopLevel()
        {
            var items = new List<Node>();
            var plain = new StringBuilder();
            int pos = 0;
            while (pos < _s.Length)
            {
                char c = _s[pos];
                if (c is '(' or '[')
                {
                    int end = pos;
                    var group = ParseGroup(ref end);
                    if (group is not null)
                    {
                        Flush(items, plain);
                        items.Add(group);
                        pos = end;
                        continue;
                    }

                    plain.Append(c); // a bracket that opens no complete group is literal text here
                    pos++;
                }
                else if (c is ')' or ']' or ':')
                {
                    plain.Append(c);
                    pos++;
                }
                else if (!TryPlainChar(plain, ref pos))
                {
                    return null;
                }
            }

            Flush(items, plain);
            return new Sequence(items);
        }

        /// <summary>Consumes one plain character (or an escape pair); false at a character plain text cannot hold.</summary>
        private bool TryPlainChar(StringBuilder plain, ref int pos)
        {
            char c = _s[pos];
            if (c == '\\')
            {
                // An escape is a backslash and any character but a newline; both characters stay in the text.
                if (pos + 1 >= _s.Length || _s[pos + 1] == '\n')
                {
                    return false;
                }

                plain.Append(c).Append(_s[pos + 1]);
                pos += 2;
                return true;
            }

            if (c is '[' or ']' or '(' or ')' or ':' or '|')
            {
                return false;
            }

            plain.Append(c);
            pos++;
            return true;
        }

        /// <summary>A prompt inside a group: plain text and nested groups up to the first character that ends it.</summary>
        private Sequence ParsePrompt(ref int pos)
        {
            var items = new List<Node>();
            var plain = new StringBuilder();
            while (pos < _s.Length)
            {
                char c = _s[pos];
                if (c is '(' or '[')
                {
                    int end = pos;
                    var group = ParseGroup(ref end);
                    if (group is null)
                    {
                        break;
                    }

                    Flush(items, plain);
                    items.Add(group);
                    pos = end;
                }
                else if (!TryPlainChar(plain, ref pos))
                {
                    break;
                }
            }

            Flush(items, plain);
            return new Sequence(items);
        }

        /// <summary>Parses the group opening at <paramref name="pos"/>; null (and <paramref name="pos"/> unspecified) if none.</summary>
        private Node? ParseGroup(ref int pos)
        {
            char open = _s[pos];
            pos++;
            var first = ParsePrompt(ref pos);
            if (pos >= _s.Length)
            {
                return null;
            }

            char next = _s[pos];
            if (open == '(')
            {
                if (next == ')')
                {
                    pos++;
                    return new Sequence([new Literal("("), first, new Literal(")")]);
                }

                if (next != ':')
                {
                    return null;
                }

                pos++;
                var weight = ParsePrompt(ref pos);
                if (pos >= _s.Length || _s[pos] != ')')
                {
                    return null;
                }

                pos++;
                return new Sequence([new Literal("("), first, new Literal(":"), weight, new Literal(")")]);
            }

            switch (next)
            {
                case ']':
                    pos++;
                    return new Sequence([new Literal("["), first, new Literal("]")]);
                case '|':
                    var options = new List<Node> { first };
                    while (pos < _s.Length && _s[pos] == '|')
                    {
                        pos++;
                        options.Add(ParsePrompt(ref pos));
                    }

                    if (pos >= _s.Length || _s[pos] != ']')
                    {
                        return null;
                    }

                    pos++;
                    return new Alternate(options);
                case ':':
                    pos++;
                    // [to:when] — the number directly follows the first colon.
                    int afterColon = pos;
                    string? when = TryWhenAndClose(ref pos);
                    if (when is not null)
                    {
                        return new Scheduled(null, first, when);
                    }

                    // [from:to:when]
                    pos = afterColon;
                    var second = ParsePrompt(ref pos);
                    if (pos >= _s.Length || _s[pos] != ':')
                    {
                        return null;
                    }

                    pos++;
                    when = TryWhenAndClose(ref pos);
                    return when is null ? null : new Scheduled(first, second, when);
                default:
                    return null;
            }
        }

        /// <summary>Matches <c>[whitespace] NUMBER [whitespace] "]"</c>; returns the number's text or null.</summary>
        private string? TryWhenAndClose(ref int pos)
        {
            int p = pos;
            SkipWhitespace(ref p);
            int start = p;
            if (!TryNumber(ref p))
            {
                return null;
            }

            string number = _s[start..p];
            SkipWhitespace(ref p);
            if (p >= _s.Length || _s[p] != ']')
            {
                return null;
            }

            pos = p + 1;
            return number;
        }

        private void SkipWhitespace(ref int p)
        {
            while (p < _s.Length && char.IsWhiteSpace(_s[p]))
            {
                p++;
            }
        }

        /// <summary>A signed decimal number: <c>[+-] (digits [. digits*] | . digits) [(e|E) [+-] digits]</c>.</summary>
        private bool TryNumber(ref int pos)
        {
            int p = pos;
            if (p < _s.Length && _s[p] is '+' or '-')
            {
                p++;
            }

            int intDigits = CountDigits(p);
            p += intDigits;
            int fracDigits = 0;
            if (p < _s.Length && _s[p] == '.' && (intDigits > 0 || CountDigits(p + 1) > 0))
            {
                p++;
                fracDigits = CountDigits(p);
                p += fracDigits;
            }
            else if (intDigits == 0)
            {
                return false;
            }

            if (p < _s.Length && _s[p] is 'e' or 'E')
            {
                int q = p + 1;
                if (q < _s.Length && _s[q] is '+' or '-')
                {
                    q++;
                }

                int expDigits = CountDigits(q);
                if (expDigits > 0)
                {
                    p = q + expDigits;
                }
            }

            pos = p;
            return true;
        }

        private int CountDigits(int p)
        {
            int n = 0;
            while (p + n < _s.Length && char.IsAsciiDigit(_s[p + n]))
            {
                n++;
            }

            return n;
        }

        private static void Flush(List<Node> items, StringBuilder plain)
        {
            if (plain.Length > 0)
            {
                items.Add(new Literal(plain.ToString()));
                plain.Clear();
            }
        }
    }
}
