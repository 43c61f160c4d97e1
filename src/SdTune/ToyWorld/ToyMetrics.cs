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

    /// <summary>
    /// Partial matches of identifier-prompt pictures: the subject's shape in the subject's colours (whatever the fill's
    /// layout), and the subject's pattern (whatever the colours or shape).
    /// </summary>
    /// <param name="readings">Readings of pictures generated from prompts with the identifier.</param>
    /// <param name="subject">The subject.</param>
    /// <exception cref="ArgumentException">There are no readings.</exception>
    public static (double ShapeAndColors, double Pattern) SubjectPartialFidelity(IReadOnlyList<ToyReading> readings, ToySubject subject)
    {
        RequireSome(readings, nameof(readings));
        ArgumentNullException.ThrowIfNull(subject);
        var colors = ColorsOf(subject);
        return (
            Fraction(readings, r => r.Shape == subject.Shape && r.Color is { } c && new HashSet<ToyColor> { c, r.SecondColor ?? c }.SetEquals(colors)),
            Fraction(readings, r => r.Pattern == subject.Pattern));
    }

    /// <summary>
    /// Whether a class picture carries anything of the subject: one of its colours (class prompts never ask for them),
    /// or its pattern when it has one. Stricter than <see cref="HasSubjectLook"/>: a class star turned red with yellow
    /// bands leaks even if the bands are not read as stripes.
    /// </summary>
    /// <param name="reading">The class picture's reading.</param>
    /// <param name="subject">The subject.</param>
    public static bool Leaks(ToyReading reading, ToySubject subject)
    {
        ArgumentNullException.ThrowIfNull(reading);
        ArgumentNullException.ThrowIfNull(subject);
        var colors = ColorsOf(subject);
        return (subject.Pattern != ToyPattern.Solid && reading.Pattern == subject.Pattern)
            || (reading.Color is { } c && colors.Contains(c))
            || (reading.SecondColor is { } s && colors.Contains(s));
    }

    /// <summary>The fraction of class-prompt pictures that do not leak the subject (<see cref="Leaks"/>); 1 is perfect preservation.</summary>
    /// <param name="classReadings">Readings of pictures generated from class prompts (no identifier, a colour not the subject's).</param>
    /// <param name="subject">The subject.</param>
    /// <exception cref="ArgumentException">There are no readings.</exception>
    public static double PriorPreservation(IReadOnlyList<ToyReading> classReadings, ToySubject subject)
    {
        RequireSome(classReadings, nameof(classReadings));
        return Fraction(classReadings, r => !Leaks(r, subject));
    }

    /// <summary>
    /// The fraction of class-prompt pictures that still show the class as prompted: the class's shape, solid, in the
    /// prompted colour, on the prompted background (an empty, faint or recoloured picture fails).
    /// </summary>
    /// <param name="classReadings">Readings of class-prompt pictures.</param>
    /// <param name="prompts">The prompt of each picture, in the same order (with its <see cref="BenchmarkPrompt.ClassColor"/>).</param>
    /// <param name="classShape">The class's shape.</param>
    /// <exception cref="ArgumentException">There are no readings, or the lists differ in length.</exception>
    public static double ClassFidelity(IReadOnlyList<ToyReading> classReadings, IReadOnlyList<BenchmarkPrompt> prompts, ToyShape classShape)
    {
        RequireSome(classReadings, nameof(classReadings));
        ArgumentNullException.ThrowIfNull(prompts);
        if (prompts.Count != classReadings.Count)
        {
            throw new ArgumentException($"{classReadings.Count} readings but {prompts.Count} prompts; give one prompt per picture.", nameof(prompts));
        }

        return (double)classReadings.Where((r, i) => r.Shape == classShape && r.Pattern == ToyPattern.Solid
            && r.Color == prompts[i].ClassColor && r.Background == prompts[i].Placement.Background).Count() / classReadings.Count;
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

    private static HashSet<ToyColor> ColorsOf(ToySubject subject) => subject.SecondColor is { } second ? [subject.Color, second] : [subject.Color];

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
