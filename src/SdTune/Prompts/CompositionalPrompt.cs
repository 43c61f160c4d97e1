namespace SdTune.Prompts;

/// <summary>
/// Composable-diffusion prompts: <c>AND</c> (upper case, a word on its own) separates parts, each with its own optional
/// weight written as a trailing <c>:number</c> (<c>a castle AND a dragon :0.8</c>). Each part is conditioned separately
/// and the guided predictions are combined with these weights.
/// </summary>
public static class CompositionalPrompt
{
    private const string Keyword = "AND";

    /// <summary>Splits a prompt at <c>AND</c> and reads each part's weight.</summary>
    /// <param name="prompt">The prompt (extra-network tags already removed).</param>
    /// <returns>The parts in order; one part for a prompt without <c>AND</c>.</returns>
    /// <remarks>
    /// A part keeps its leading whitespace; trailing whitespace and a weight suffix (<c>[ws] : [ws] [+-] number</c>, the
    /// number being digits with an optional fraction) are removed. A part whose tail is not such a suffix, for example
    /// <c>(a:1.2)</c>, keeps it as text and has weight 1.
    /// </remarks>
    public static IReadOnlyList<SubPrompt> Split(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var parts = new List<SubPrompt>();
        int cursor = 0;
        int search = 0;
        while (true)
        {
            int k = prompt.IndexOf(Keyword, search, StringComparison.Ordinal);
            if (k < 0)
            {
                break;
            }

            int after = k + Keyword.Length;
            bool isWord = (k == 0 || !PythonText.IsWordChar(prompt[k - 1]))
                && (after == prompt.Length || !PythonText.IsWordChar(prompt[after]));
            if (!isWord)
            {
                search = k + 1;
                continue;
            }

            parts.Add(ReadWeight(prompt[cursor..k]));
            cursor = after;
            search = after;
        }

        parts.Add(ReadWeight(prompt[cursor..]));
        return parts;
    }

    private static SubPrompt ReadWeight(string part)
    {
        int end = part.Length;
        while (end > 0 && PythonText.IsWhitespace(part[end - 1]))
        {
            end--;
        }

        // Scan the number backwards: digits, optionally "digits.digits", "digits." or ".digits".
        int p = end;
        int fractionDigits = 0;
        while (p > 0 && PythonText.IsDigit(part[p - 1]))
        {
            p--;
            fractionDigits++;
        }

        int integerDigits = 0;
        if (p > 0 && part[p - 1] == '.')
        {
            p--;
            while (p > 0 && PythonText.IsDigit(part[p - 1]))
            {
                p--;
                integerDigits++;
            }
        }
        else
        {
            integerDigits = fractionDigits;
            fractionDigits = 0;
        }

        bool hasNumber = integerDigits + fractionDigits > 0;
        int numberStart = p;
        if (hasNumber && p > 0 && part[p - 1] is '+' or '-')
        {
            p--;
            numberStart = p;
        }

        while (p > 0 && PythonText.IsWhitespace(part[p - 1]))
        {
            p--;
        }

        if (hasNumber && p > 0 && part[p - 1] == ':')
        {
            p--;
            while (p > 0 && PythonText.IsWhitespace(part[p - 1]))
            {
                p--;
            }

            if (PythonText.TryParseFloat(part[numberStart..end], out double weight))
            {
                return new SubPrompt(part[..p], weight);
            }
        }

        return new SubPrompt(part[..end], 1.0);
    }
}
