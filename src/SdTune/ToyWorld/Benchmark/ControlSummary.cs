namespace SdTune.ToyWorld.Benchmark;

/// <summary>One control-benchmark row over the seeds: each measure's mean, its sample standard deviation and the rows themselves.</summary>
/// <param name="Mean">Every measure averaged over the seeds.</param>
/// <param name="Spread">Every measure's sample standard deviation over the seeds (zero with one seed).</param>
/// <param name="Rounds">The row of each seed, in seed order.</param>
public sealed record ControlSummary(ControlScore Mean, ControlScore Spread, IReadOnlyList<ControlScore> Rounds)
{
    /// <summary>The row's name.</summary>
    public string Row => Mean.Row;

    /// <summary>Summarises the rows of one row name (at least one).</summary>
    /// <exception cref="ArgumentException">There are no rows.</exception>
    public static ControlSummary Of(IReadOnlyList<ControlScore> rounds)
    {
        SeedStatistics.RequireRows(rounds);
        return new ControlSummary(Combine(rounds, SeedStatistics.Average), Combine(rounds, SeedStatistics.SampleStd), rounds);
    }

    private static ControlScore Combine(IReadOnlyList<ControlScore> rows, Func<IEnumerable<double>, double> f)
    {
        double F(Func<ControlScore, double> pick) => f(rows.Select(pick));
        return rows[0] with
        {
            Position = F(r => r.Position),
            Shape = F(r => r.Shape),
            Color = F(r => r.Color),
            Background = F(r => r.Background),
            TrainSeconds = F(r => r.TrainSeconds),
            PeakMemoryBytes = (long)Math.Round(F(r => r.PeakMemoryBytes)),
            OutputBytes = (long)Math.Round(F(r => r.OutputBytes)),
        };
    }
}
