namespace SdTune.Training.Optimization;

/// <summary>
/// A learning-rate schedule as diffusers' <c>get_scheduler</c> defines it: a pure function of the step that gives
/// the factor applied to every parameter group's <see cref="ParameterGroup.InitialLearningRate"/>. Resuming a run
/// needs no saved schedule state: apply it at the resumed step.
/// </summary>
public sealed class LearningRateSchedule
{
    private LearningRateSchedule(LearningRateScheduleKind kind, long warmupSteps, long totalSteps, double numCycles, double power, double lrEnd, double initialLearningRate, double minLrRatio)
    {
        MinLrRatio = minLrRatio;
        Kind = kind;
        WarmupSteps = warmupSteps;
        TotalSteps = totalSteps;
        NumCycles = numCycles;
        Power = power;
        LrEnd = lrEnd;
        InitialLearningRate = initialLearningRate;
    }

    /// <summary>The schedule names <see cref="Create"/> accepts (diffusers' spelling).</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["constant", "constant_with_warmup", "linear", "cosine", "cosine_with_restarts", "polynomial", "cosine_with_min_lr"];

    /// <summary>The schedule's shape.</summary>
    public LearningRateScheduleKind Kind { get; }

    /// <summary>For <c>cosine_with_min_lr</c>: the fraction of the base rate the cosine ends at, in [0, 1].</summary>
    public double MinLrRatio { get; }

    /// <summary>Steps of linear warm-up from 0.</summary>
    public long WarmupSteps { get; }

    /// <summary>The run's total number of optimizer steps.</summary>
    public long TotalSteps { get; }

    /// <summary>Cosine periods ("cosine", default 0.5) or number of hard restarts ("cosine_with_restarts", default 1).</summary>
    public double NumCycles { get; }

    /// <summary>Exponent of the polynomial decay (default 1).</summary>
    public double Power { get; }

    /// <summary>Final learning rate of the polynomial decay (an absolute rate, default 1e-7).</summary>
    public double LrEnd { get; }

    /// <summary>The rate the polynomial decay starts from (diffusers uses the optimizer's default rate); 0 for other kinds.</summary>
    public double InitialLearningRate { get; }

    /// <summary>Creates a schedule from its diffusers name.</summary>
    /// <param name="name">One of <see cref="Names"/> (any letter case; '-' is read as '_').</param>
    /// <param name="totalSteps">The run's total number of optimizer steps.</param>
    /// <param name="warmup">The warm-up (default none).</param>
    /// <param name="numCycles">Cosine periods (default 0.5) or restarts (default 1).</param>
    /// <param name="power">Polynomial exponent.</param>
    /// <param name="lrEnd">Polynomial final rate.</param>
    /// <param name="initialLearningRate">Polynomial only, required: the rate the decay starts from (the main group's base rate); must exceed <paramref name="lrEnd"/>.</param>
    /// <param name="minLrRatio">For <c>cosine_with_min_lr</c>: the fraction of the base rate the cosine ends at, in [0, 1].</param>
    /// <exception cref="ArgumentException">The name is unknown (the message lists the valid ones) or a value is out of range.</exception>
    public static LearningRateSchedule Create(
        string name,
        long totalSteps,
        WarmupLength warmup = default,
        double? numCycles = null,
        double power = 1.0,
        double lrEnd = 1e-7,
        double? initialLearningRate = null,
        double minLrRatio = 0.0)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentOutOfRangeException.ThrowIfNegative(totalSteps);
        var normalized = name.Trim().Replace('-', '_').ToLowerInvariant();
        var index = Names.ToList().IndexOf(normalized);
        if (index < 0)
        {
            throw new ArgumentException($"Unknown learning-rate schedule '{name}'. Valid schedules: {string.Join(", ", Names)}.", nameof(name));
        }

        var kind = (LearningRateScheduleKind)index;
        var warmupSteps = warmup.Resolve(totalSteps);
        var cycles = numCycles ?? (kind == LearningRateScheduleKind.CosineWithRestarts ? 1.0 : 0.5);
        if (!(cycles > 0) || double.IsInfinity(cycles))
        {
            throw new ArgumentException($"Schedule {normalized}: num_cycles = {cycles} must be finite and > 0.", nameof(numCycles));
        }

        if (!(minLrRatio >= 0 && minLrRatio <= 1))
        {
            throw new ArgumentException($"Schedule {normalized}: min_lr_ratio = {minLrRatio} must lie in [0, 1].", nameof(minLrRatio));
        }

        var start = 0.0;
        if (kind == LearningRateScheduleKind.Polynomial)
        {
            start = initialLearningRate ?? throw new ArgumentException("Schedule polynomial: the initial learning rate is required (lr_end is an absolute rate).", nameof(initialLearningRate));
            if (!(start > lrEnd))
            {
                throw new ArgumentException($"Schedule polynomial: lr_end ({lrEnd}) must be smaller than the initial learning rate ({start}).", nameof(lrEnd));
            }

            if (!(power > 0) || double.IsInfinity(power))
            {
                throw new ArgumentException($"Schedule polynomial: power = {power} must be finite and > 0.", nameof(power));
            }

            if (totalSteps <= warmupSteps)
            {
                throw new ArgumentException($"Schedule polynomial: total steps ({totalSteps}) must exceed the warm-up ({warmupSteps}).", nameof(totalSteps));
            }
        }

        return new LearningRateSchedule(kind, warmupSteps, totalSteps, cycles, power, lrEnd, start, minLrRatio);
    }

    /// <summary>The factor for <paramref name="step"/> (0-based: the step about to be taken).</summary>
    public double Factor(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        if (Kind == LearningRateScheduleKind.Constant)
        {
            return 1.0;
        }

        if (step < WarmupSteps)
        {
            return (double)step / Math.Max(1, WarmupSteps);
        }

        var progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        switch (Kind)
        {
            case LearningRateScheduleKind.ConstantWithWarmup:
                return 1.0;
            case LearningRateScheduleKind.Linear:
                return Math.Max(0.0, (double)(TotalSteps - step) / Math.Max(1, TotalSteps - WarmupSteps));
            case LearningRateScheduleKind.Cosine:
                return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * NumCycles * 2.0 * progress)));
            case LearningRateScheduleKind.CosineWithMinLr:
                return Math.Max(0.0, (0.5 * (1.0 + Math.Cos(Math.PI * NumCycles * 2.0 * progress)) * (1.0 - MinLrRatio)) + MinLrRatio);
            case LearningRateScheduleKind.CosineWithRestarts:
                return progress >= 1.0 ? 0.0 : Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * (NumCycles * progress % 1.0))));
            default:
                if (step > TotalSteps)
                {
                    return LrEnd / InitialLearningRate;
                }

                var remaining = 1.0 - ((double)(step - WarmupSteps) / (TotalSteps - WarmupSteps));
                return (((InitialLearningRate - LrEnd) * Math.Pow(remaining, Power)) + LrEnd) / InitialLearningRate;
        }
    }

    /// <summary>Sets every group's learning rate to its initial rate times <see cref="Factor"/>(<paramref name="step"/>).</summary>
    public void Apply(IStatefulOptimizer optimizer, long step)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        var factor = Factor(step);
        foreach (var group in optimizer.Groups)
        {
            group.LearningRate = group.InitialLearningRate * factor;
        }
    }
}
