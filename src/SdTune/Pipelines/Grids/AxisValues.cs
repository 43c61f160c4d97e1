using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace SdTune.Pipelines.Grids;

/// <summary>
/// The values of a grid axis as A1111's X/Y/Z plot reads them: a comma-separated list in which each number may be a
/// range. <c>1-5</c> is 1, 2, 3, 4, 5 (<c>5-1</c> counts down); <c>1-5 (+2)</c> steps: 1, 3, 5 (<c>10-5 (-3)</c> is
/// 10, 7; <c>1-3 (+0.5)</c> is 1, 1.5, 2, 2.5, 3); <c>1-10 [5]</c> is that many values spread evenly from the first
/// to the last, whole numbers truncated (1, 3, 5, 7, 10; <c>0-1 [6]</c> is 0, 0.2, 0.4, 0.6, 0.8, 1). Text lists
/// follow a CSV line: a value that holds a comma is quoted, <c>"a, b","c"</c> being two values.
/// </summary>
public static partial class AxisValues
{
    /// <summary>The most values one axis may have (a range that expands to more is an error).</summary>
    public const int MaxValues = 1000;

    /// <summary>Numbers of an integer axis (seed, steps, ...).</summary>
    /// <exception cref="FormatException">A value is neither a whole number nor a range; the message names it.</exception>
    public static IReadOnlyList<long> ParseIntegers(string text) =>
        [.. SplitList(text).SelectMany(v => ExpandIntegers(v.Trim()))];

    /// <summary>Numbers of a real-valued axis (CFG scale, LoRA weight, ...).</summary>
    /// <exception cref="FormatException">A value is neither a number nor a range; the message names it.</exception>
    public static IReadOnlyList<double> ParseNumbers(string text) =>
        [.. SplitList(text).SelectMany(v => ExpandNumbers(v.Trim()))];

    /// <summary>
    /// The items of a comma-separated list, each trimmed, as a CSV line is read: an item that starts with a quote
    /// runs to the closing quote (<c>""</c> inside stands for one quote) and may hold commas. Unquoted empty items are
    /// dropped; a quoted empty item (<c>""</c>) is kept.
    /// </summary>
    /// <exception cref="FormatException">A quote is not closed.</exception>
    public static IReadOnlyList<string> SplitList(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var items = new List<string>();
        var i = 0;
        while (i <= text.Length)
        {
            while (i < text.Length && text[i] == ' ')
            {
                i++;
            }

            var item = new StringBuilder();
            var quoted = false;
            if (i < text.Length && text[i] == '"')
            {
                quoted = true;
                i++;
                while (true)
                {
                    if (i >= text.Length)
                    {
                        throw new FormatException($"'{text}': a quote is not closed.");
                    }

                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            item.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    item.Append(text[i++]);
                }
            }

            while (i < text.Length && text[i] != ',')
            {
                item.Append(text[i++]);
            }

            var value = item.ToString().Trim();
            if (quoted || value.Length > 0)
            {
                items.Add(value);
            }

            i++;
        }

        return items;
    }

    private static IEnumerable<long> ExpandIntegers(string value)
    {
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var single))
        {
            return [single];
        }

        var range = Range(value, integer: true);
        if (range.Count is { } count)
        {
            // Evenly spread, truncated toward zero: 1-10 [5] is 1, 3, 5, 7, 10.
            return Spread(range.Start, range.End, count).Select(v => (long)Math.Truncate(v + (Math.Sign(v) * 1e-9)));
        }

        var step = range.Step ?? (range.End >= range.Start ? 1 : -1);
        return Stepped(range.Start, range.End, step, value).Select(v => (long)Math.Round(v));
    }

    private static IEnumerable<double> ExpandNumbers(string value)
    {
        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var single) && double.IsFinite(single))
        {
            return [single];
        }

        var range = Range(value, integer: false);
        if (range.Count is { } count)
        {
            return Spread(range.Start, range.End, count);
        }

        var step = range.Step ?? (range.End >= range.Start ? 1 : -1);
        return Stepped(range.Start, range.End, step, value);
    }

    private static (double Start, double End, double? Step, int? Count) Range(string value, bool integer)
    {
        var match = RangePattern().Match(value);
        if (!match.Success)
        {
            throw new FormatException(integer
                ? $"'{value}' is not a whole number or a range (1-5, 1-5 (+2), 1-10 [5])."
                : $"'{value}' is not a number or a range (1-5, 1-3 (+0.5), 0-1 [6]).");
        }

        var start = Number(match.Groups["start"].Value, value);
        var end = Number(match.Groups["end"].Value, value);
        if (integer && (!double.IsInteger(start) || !double.IsInteger(end) || (match.Groups["step"].Success && !double.IsInteger(Number(match.Groups["step"].Value, value)))))
        {
            throw new FormatException($"'{value}': this axis takes whole numbers.");
        }

        if (match.Groups["count"].Success)
        {
            if (!int.TryParse(match.Groups["count"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1 || count > MaxValues)
            {
                throw new FormatException($"'{value}': the count in [brackets] must be 1 to {MaxValues}.");
            }

            return (start, end, null, count);
        }

        if (match.Groups["step"].Success)
        {
            var step = Number(match.Groups["step"].Value, value);
            if (step == 0)
            {
                throw new FormatException($"'{value}': the step in (parentheses) must not be 0.");
            }

            return (start, end, step, null);
        }

        return (start, end, null, null);
    }

    private static double Number(string text, string value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
            ? number
            : throw new FormatException($"'{value}': '{text}' is not a number.");

    private static IEnumerable<double> Spread(double start, double end, int count) =>
        count == 1 ? [start] : Enumerable.Range(0, count).Select(i => i == count - 1 ? end : Clean(start + ((end - start) * i / (count - 1))));

    /// <summary>start, start + step, ... up to and including end (within rounding).</summary>
    private static List<double> Stepped(double start, double end, double step, string value)
    {
        var slack = Math.Abs(step) * 1e-9;
        var values = new List<double>();
        for (var i = 0; ; i++)
        {
            var v = Clean(start + (i * step));
            if (step > 0 ? v > end + slack : v < end - slack)
            {
                break;
            }

            if (values.Count == MaxValues)
            {
                throw new FormatException($"'{value}' gives more than {MaxValues} values.");
            }

            values.Add(v);
        }

        return values.Count > 0 ? values : throw new FormatException($"'{value}' gives no values: the step goes away from the end.");
    }

    /// <summary>Rounds off the binary noise of stepping (1 + 3 × 0.1 is 1.3, not 1.3000000000000003).</summary>
    private static double Clean(double value) => Math.Round(value, 10);

    [GeneratedRegex(@"^\s*(?<start>[+-]?\d+(?:\.\d*)?)\s*-\s*(?<end>[+-]?\d+(?:\.\d*)?)\s*(?:\(\s*(?<step>[+-]?\d+(?:\.\d*)?)\s*\)|\[\s*(?<count>\d+)\s*\])?\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex RangePattern();
}
