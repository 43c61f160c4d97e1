using System.Text.RegularExpressions;

namespace SdTune.Training.Data;

/// <summary>
/// Turns a stored caption into the text trained on at one step, in sd-scripts' order:
/// prefix/suffix, caption dropout, wildcards, then (when shuffling, warm-up or tag dropout is on) the split into
/// fixed/flexible/fixed-suffix tags, token warm-up, shuffle, tag dropout and a ", " join, and finally the secondary
/// separator replaced by the caption separator. All randomness comes from the <see cref="IRandomSource"/> passed in.
/// </summary>
public sealed partial class CaptionProcessor
{
    private readonly SubsetOptions _options;

    /// <summary>Creates a processor for one subset's settings.</summary>
    /// <param name="options">The subset's caption settings.</param>
    public CaptionProcessor(SubsetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
    }

    /// <summary>Processes one caption.</summary>
    /// <param name="caption">The stored caption (for wildcard subsets, possibly several lines).</param>
    /// <param name="context">The epoch and step.</param>
    /// <param name="random">The random source for this sample.</param>
    /// <returns>The caption to encode.</returns>
    public string Process(string caption, CaptionContext context, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(caption);
        ArgumentNullException.ThrowIfNull(random);
        var o = _options;
        if (!string.IsNullOrEmpty(o.CaptionPrefix))
        {
            caption = o.CaptionPrefix + " " + caption;
        }

        if (!string.IsNullOrEmpty(o.CaptionSuffix))
        {
            caption = caption + " " + o.CaptionSuffix;
        }

        // Draw for the rate first (as sd-scripts does) so the random stream does not depend on the epoch rule.
        var dropped = o.CaptionDropoutRate > 0 && random.NextDouble() < o.CaptionDropoutRate;
        dropped = dropped || (o.CaptionDropoutEveryNEpochs > 0 && context.Epoch % o.CaptionDropoutEveryNEpochs == 0);
        if (dropped)
        {
            return "";
        }

        caption = o.EnableWildcard ? ExpandWildcards(caption, random) : caption.Split('\n')[0];

        if (o.ShuffleCaption || o.TokenWarmupStep > 0 || o.CaptionTagDropoutRate > 0)
        {
            caption = ShuffleAndDrop(caption, context, random);
        }

        if (!string.IsNullOrEmpty(o.SecondarySeparator))
        {
            caption = caption.Replace(o.SecondarySeparator, o.CaptionSeparator, StringComparison.Ordinal);
        }

        return caption;
    }

    /// <summary>Picks one line (when there are several) and replaces each <c>{a|b|c}</c> by one choice; <c>{{</c> and <c>}}</c> are literal braces.</summary>
    private static string ExpandWildcards(string caption, IRandomSource random)
    {
        if (caption.Contains('\n', StringComparison.Ordinal))
        {
            caption = random.Choice(caption.Split('\n'));
        }

        // Private-use placeholders that cannot collide with the caption's own text.
        var open = "\uE000";
        var close = "\uE001";
        while (caption.Contains(open, StringComparison.Ordinal) || caption.Contains(close, StringComparison.Ordinal))
        {
            open += "\uE000";
            close += "\uE001";
        }

        caption = caption.Replace("{{", open, StringComparison.Ordinal).Replace("}}", close, StringComparison.Ordinal);
        caption = WildcardPattern().Replace(caption, m => random.Choice(m.Groups[1].Value.Split('|')));
        return caption.Replace(open, "{", StringComparison.Ordinal).Replace(close, "}", StringComparison.Ordinal);
    }

    private string ShuffleAndDrop(string caption, CaptionContext context, IRandomSource random)
    {
        var o = _options;
        var separator = o.CaptionSeparator;
        List<string> fixedTokens = [];
        List<string> flexTokens;
        List<string> fixedSuffix = [];
        if (!string.IsNullOrEmpty(o.KeepTokensSeparator) && caption.Contains(o.KeepTokensSeparator, StringComparison.Ordinal))
        {
            var cut = caption.IndexOf(o.KeepTokensSeparator, StringComparison.Ordinal);
            var fixedPart = caption[..cut];
            var flexPart = caption[(cut + o.KeepTokensSeparator.Length)..];
            var second = flexPart.IndexOf(o.KeepTokensSeparator, StringComparison.Ordinal);
            if (second >= 0)
            {
                fixedSuffix = NonEmptyTags(flexPart[(second + o.KeepTokensSeparator.Length)..], separator);
                flexPart = flexPart[..second];
            }

            fixedTokens = NonEmptyTags(fixedPart, separator);
            flexTokens = NonEmptyTags(flexPart, separator);
        }
        else
        {
            // Without the separator, empty tags are kept (as sd-scripts does) and the first keep_tokens are fixed.
            var tokens = caption.Trim().Split(separator).Select(t => t.Trim()).ToList();
            var keep = Math.Min(o.KeepTokens, tokens.Count);
            fixedTokens = tokens[..keep];
            flexTokens = tokens[keep..];
        }

        var warmupStep = o.TokenWarmupStep < 1 ? Math.Floor(o.TokenWarmupStep * context.MaxTrainSteps) : o.TokenWarmupStep;
        if (warmupStep > 0 && context.Step < warmupStep)
        {
            var length = (int)Math.Floor(context.Step * ((flexTokens.Count - o.TokenWarmupMin) / warmupStep)) + o.TokenWarmupMin;
            flexTokens = flexTokens[..Math.Clamp(length, 0, flexTokens.Count)];
        }

        if (o.ShuffleCaption)
        {
            random.Shuffle(flexTokens);
        }

        if (o.CaptionTagDropoutRate > 0)
        {
            flexTokens = flexTokens.Where(_ => random.NextDouble() >= o.CaptionTagDropoutRate).ToList();
        }

        return string.Join(", ", fixedTokens.Concat(flexTokens).Concat(fixedSuffix));
    }

    private static List<string> NonEmptyTags(string text, string separator) =>
        text.Split(separator).Select(t => t.Trim()).Where(t => t.Length > 0).ToList();

    [GeneratedRegex(@"\{([^}]+)\}")]
    private static partial Regex WildcardPattern();
}
