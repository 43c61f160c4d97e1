namespace SdTune.ToyWorld;

/// <summary>
/// The fine-tuning benchmark's scores, computed from <see cref="ToyEvaluator"/> readings of generated pictures:
/// subject fidelity (does the picture show the subject), prompt fidelity (does it follow the prompt's background,
/// size and position), prior preservation (do class prompts still give ordinary shapes) and colour diversity.
/// </summary>
public static class ToyMetrics
{
    /// <summary>True when a reading shows the subject: its shape, colour(s) and pattern.</summary>
    /// <param name="reading">The reading.</param>
    /// <param name="subject">The subject.</param>
    public static bool ShowsSubject(ToyReading reading, ToySubject subject)
    {
        ArgumentNullException.ThrowIfNull(reading);
        ArgumentNullException.ThrowIfNull(subject);
        return reading.Shape == subject.Shape && HasSubjectLook(reading, subject);
    }

    /// <summary>
    /// True when a reading carries the subject's distinctive look (its colour(s) and pattern, whatever the shape): what
    /// leaks into class prompts when fine-tuning overwrites the class.
    /// </summary>
    /// <param name="reading">The reading.</param>
    /// <param name="subject">The subject.</param>
    public static bool HasSubjectLook(ToyReading reading, ToySubject subject)
    {
        ArgumentNullException.ThrowIfNull(reading);
        ArgumentNullException.ThrowIfNull(subject);
        return reading.Color == subject.Color && reading.Pattern == subject.Pattern && reading.SecondColor == subject.SecondColor;
    }

    /// <summary>The fraction of pictures that show the subject (<see cref="ShowsSubject"/>).</summary>
    /// <param name="readings">Readings of pictures generated from prompts with the identifier.</param>
    /// <param name="subject">The subject.</param>
    /// <exception cref="ArgumentException">There are no readings.</exception>
    public static double SubjectFidelity(IReadOnlyList<ToyReading> readings, ToySubject subject)
    {
        RequireSome(readings, nameof(readings));
        return Fraction(readings, r => ShowsSubject(r, subject));
    }

    /// <summary>How often each picture shows the background, size and position its prompt asked for.</summary>
    /// <param name="readings">Readings of the pictures.</param>
    /// <param name="prompted">The placement each picture's prompt asked for, in the same order.</param>
    /// <exception cref="ArgumentException">There are no readings, or the two lists differ in length.</exception>
    public static ToyPromptFidelity PromptFidelity(IReadOnlyList<ToyReading> readings, IReadOnlyList<ToyPlacement> prompted)
    {
        RequireSome(readings, nameof(readings));
        ArgumentNullException.ThrowIfNull(prompted);
        if (prompted.Count != readings.Count)
        {
            throw new ArgumentException($"{readings.Count} readings but {prompted.Count} prompted placements; give one placement per picture.", nameof(prompted));
        }

        int background = 0, size = 0, position = 0, all = 0;
        for (var i = 0; i < readings.Count; i++)
        {
            var (r, p) = (readings[i], prompted[i]);
            var b = r.Background == p.Background;
            var s = r.Size == p.Size;
            var q = r.Position == p.Position;
            background += b ? 1 : 0;
            size += s ? 1 : 0;
            position += q ? 1 : 0;
            all += b && s && q ? 1 : 0;
        }

        double n = readings.Count;
        return new ToyPromptFidelity(background / n, size / n, position / n, all / n, readings.Count);
    }

    /// <summary>The fraction of class-prompt pictures that do not carry the subject's look (<see cref="HasSubjectLook"/>); 1 is perfect preservation.</summary>
    /// <param name="classReadings">Readings of pictures generated from class prompts (no identifier).</param>
    /// <param name="subject">The subject.</param>
    /// <exception cref="ArgumentException">There are no readings.</exception>
    public static double PriorPreservation(IReadOnlyList<ToyReading> classReadings, ToySubject subject)
    {
        RequireSome(classReadings, nameof(classReadings));
        return Fraction(classReadings, r => !HasSubjectLook(r, subject));
    }

    /// <summary>
    /// The Shannon entropy, in bits, of the shape colours read from the pictures (pictures with no shape form their
    /// own category): 0 when every picture has the same colour, log2(8) = 3 when the eight colours are equally common.
    /// </summary>
    /// <param name="readings">The readings.</param>
    /// <exception cref="ArgumentException">There are no readings.</exception>
    public static double ColorEntropy(IReadOnlyList<ToyReading> readings)
    {
        RequireSome(readings, nameof(readings));
        double n = readings.Count;
        return readings.GroupBy(r => r.Color).Sum(g =>
        {
            var p = g.Count() / n;
            return p * Math.Log2(1 / p);
        });
    }

    private static double Fraction(IReadOnlyList<ToyReading> readings, Func<ToyReading, bool> predicate) =>
        (double)readings.Count(predicate) / readings.Count;

    private static void RequireSome(IReadOnlyList<ToyReading> readings, string name)
    {
        ArgumentNullException.ThrowIfNull(readings, name);
        if (readings.Count == 0)
        {
            throw new ArgumentException("No readings: a score needs at least one picture.", name);
        }
    }
}
