using System.Globalization;
using System.Text;

namespace SdTune.Prompts;

/// <summary>
/// The texts a prompt takes over the sampling steps once prompt editing (<c>[from:to:when]</c>, <c>[to:when]</c>,
/// <c>[from::when]</c>) and alternation (<c>[a|b]</c>) are resolved, as the web UI computes them.
/// </summary>
/// <remarks>
/// <para><c>when</c> written with a decimal point is a fraction of the steps (<c>[a:b:0.25]</c> switches after a quarter
/// of them); without one it is an absolute step. The switch step is truncated to an integer and capped at the step
/// count; a <c>from</c> text is used while <c>step &lt;= when</c>, so a <c>when</c> below 1 means "<c>to</c> from the first
/// step". An alternation cycles through its options every step (<c>(step - 1) % n</c>).</para>
/// <para>With a hires pass (<c>hiresSteps</c> given) the schedule is for the hires steps: integers count from the end of
/// the base pass (<c>when - baseSteps</c>) and fractions from 1 (<c>[a:b:1.5]</c> switches halfway through the hires
/// pass). The legacy rule (<c>useOldScheduling</c>) reads any value below 1 as a fraction instead.</para>
/// <para>A prompt the grammar does not accept (for example one with a <c>|</c> outside an alternation) is used literally
/// for all steps. A bracket group directly followed by stray brackets (<c>[a:b:1]]</c>) is always read as a group; the
/// web UI's own parser reads such prompts either way, depending on the run.</para>
/// </remarks>
public sealed class PromptSchedule
{
    private PromptSchedule(IReadOnlyList<ScheduledPrompt> entries) => Entries = entries;

    /// <summary>The distinct texts in step order; the last entry always ends at the step count.</summary>
    public IReadOnlyList<ScheduledPrompt> Entries { get; }

    /// <summary>Builds the schedule of one prompt (after <c>AND</c> splitting) for a sampling run.</summary>
    /// <param name="prompt">The prompt text.</param>
    /// <param name="steps">The number of sampling steps (of the base pass).</param>
    /// <param name="hiresSteps">The number of hires-pass steps, to build the schedule of a hires pass; null otherwise.</param>
    /// <param name="useOldScheduling">Reads every <c>when</c> below 1 as a fraction and ignores the hires offsets.</param>
    /// <returns>The schedule.</returns>
    public static PromptSchedule Build(string prompt, int steps, int? hiresSteps = null, bool useOldScheduling = false)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        if (hiresSteps is { } h)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(h, 1, nameof(hiresSteps));
        }

        bool hires = hiresSteps is not null && !useOldScheduling;
        int total = hires ? hiresSteps!.Value : steps;
        var tree = ScheduleSyntax.Parse(prompt);
        if (tree is null)
        {
            return new PromptSchedule([new ScheduledPrompt(total, prompt)]);
        }

        var timing = new Timing(total, hires ? steps : 0, hires ? 1.0 : 0.0, useOldScheduling);
        var switchSteps = new SortedSet<int> { total };
        var whenByNode = new Dictionary<ScheduleSyntax.Scheduled, int>(ReferenceEqualityComparer.Instance);
        CollectSwitchSteps(tree, timing, switchSteps, whenByNode);

        var entries = new List<ScheduledPrompt>(switchSteps.Count);
        foreach (int step in switchSteps)
        {
            var text = new StringBuilder();
            Render(tree, step, whenByNode, text);
            entries.Add(new ScheduledPrompt(step, text.ToString()));
        }

        return new PromptSchedule(entries);
    }

    /// <summary>The text used at a sampling step: the first entry whose end step is at or after it.</summary>
    /// <param name="step">The 1-based sampling step.</param>
    /// <returns>The prompt text for that step; past the last entry, the first entry's text (as the web UI does).</returns>
    public string TextAt(int step)
    {
        foreach (var entry in Entries)
        {
            if (step <= entry.EndAtStep)
            {
                return entry.Text;
            }
        }

        return Entries[0].Text;
    }

    private readonly record struct Timing(int Steps, int IntegerOffset, double FractionOffset, bool Old)
    {
        /// <summary>The last step that still uses the <c>from</c> text; values below 1 mean "never".</summary>
        public int SwitchStep(string when)
        {
            double v = double.Parse(when, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (Old)
            {
                v = v < 1 ? v * Steps : v;
            }
            else if (when.Contains('.', StringComparison.Ordinal))
            {
                v = (v - FractionOffset) * Steps;
            }
            else
            {
                v -= IntegerOffset;
            }

            // Truncate toward zero and cap at the step count; everything below 1 behaves alike, so clamp it to 0
            // (this also keeps huge exponents finite).
            if (v >= Steps)
            {
                return Steps;
            }

            return v < 1 ? 0 : (int)Math.Truncate(v);
        }
    }

    private static void CollectSwitchSteps(
        ScheduleSyntax.Node node, Timing timing, SortedSet<int> steps, Dictionary<ScheduleSyntax.Scheduled, int> whenByNode)
    {
        switch (node)
        {
            case ScheduleSyntax.Sequence sequence:
                foreach (var item in sequence.Items)
                {
                    CollectSwitchSteps(item, timing, steps, whenByNode);
                }

                break;
            case ScheduleSyntax.Scheduled scheduled:
                int when = timing.SwitchStep(scheduled.When);
                whenByNode[scheduled] = when;
                if (when >= 1)
                {
                    steps.Add(when);
                }

                if (scheduled.Before is not null)
                {
                    CollectSwitchSteps(scheduled.Before, timing, steps, whenByNode);
                }

                CollectSwitchSteps(scheduled.After, timing, steps, whenByNode);
                break;
            case ScheduleSyntax.Alternate alternate:
                // Any alternation, even in a branch that is never shown, makes every step a switch step.
                for (int s = 1; s <= timing.Steps; s++)
                {
                    steps.Add(s);
                }

                foreach (var option in alternate.Options)
                {
                    CollectSwitchSteps(option, timing, steps, whenByNode);
                }

                break;
        }
    }

    private static void Render(
        ScheduleSyntax.Node node, int step, Dictionary<ScheduleSyntax.Scheduled, int> whenByNode, StringBuilder text)
    {
        switch (node)
        {
            case ScheduleSyntax.Literal literal:
                text.Append(literal.Text);
                break;
            case ScheduleSyntax.Sequence sequence:
                foreach (var item in sequence.Items)
                {
                    Render(item, step, whenByNode, text);
                }

                break;
            case ScheduleSyntax.Scheduled scheduled:
                var chosen = step <= whenByNode[scheduled] ? scheduled.Before : scheduled.After;
                if (chosen is not null)
                {
                    Render(chosen, step, whenByNode, text);
                }

                break;
            case ScheduleSyntax.Alternate alternate:
                Render(alternate.Options[(step - 1) % alternate.Options.Count], step, whenByNode, text);
                break;
        }
    }
}
