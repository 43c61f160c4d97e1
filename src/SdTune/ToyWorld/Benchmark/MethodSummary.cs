namespace SdTune.ToyWorld.Benchmark;

/// <summary>
/// One method's rows over the benchmark's seeds: the mean of every measure, its spread (the sample standard deviation
/// across seeds; zero with one seed) and the rows themselves. The grid is the first seed's.
/// </summary>
/// <param name="Mean">Every measure averaged over the seeds.</param>
/// <param name="Spread">Every measure's sample standard deviation over the seeds.</param>
/// <param name="Rounds">The row of each seed, in seed order.</param>
public sealed record MethodSummary(MethodScore Mean, MethodScore Spread, IReadOnlyList<MethodScore> Rounds)
{
    /// <summary>The method's name.</summary>
    public string Method => Mean.Method;

    /// <summary>The first seed's grid.</summary>
    public string Grid => Rounds[0].Grid;

    /// <summary>Summarises the rows of one method (at least one).</summary>
    /// <exception cref="ArgumentException">There are no rows.</exception>
    public static MethodSummary Of(IReadOnlyList<MethodScore> rounds)
    {
        SeedStatistics.RequireRows(rounds);
        return new MethodSummary(Combine(rounds, SeedStatistics.Average), Combine(rounds, SeedStatistics.SampleStd), rounds);
    }

    private static MethodScore Combine(IReadOnlyList<MethodScore> rows, Func<IEnumerable<double>, double> f)
    {
        var first = rows[0];
        double F(Func<MethodScore, double> pick) => f(rows.Select(pick));
        return first with
        {
            SubjectFidelity = F(r => r.SubjectFidelity),
            SubjectShapeAndColors = F(r => r.SubjectShapeAndColors),
            SubjectPattern = F(r => r.SubjectPattern),
            PromptFidelity = new ToyPromptFidelity(
                F(r => r.PromptFidelity.Background), F(r => r.PromptFidelity.Size), F(r => r.PromptFidelity.Position), F(r => r.PromptFidelity.All),
                rows.Sum(r => r.PromptFidelity.Count)),
            PriorPreservation = F(r => r.PriorPreservation),
            ClassFidelity = F(r => r.ClassFidelity),
            ClassColorEntropy = F(r => r.ClassColorEntropy),
            TrainSeconds = F(r => r.TrainSeconds),
            PeakMemoryBytes = (long)Math.Round(F(r => r.PeakMemoryBytes)),
            OutputBytes = (long)Math.Round(F(r => r.OutputBytes)),
        };
    }
}
