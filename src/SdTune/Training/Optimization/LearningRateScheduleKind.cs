namespace SdTune.Training.Optimization;

/// <summary>The learning-rate schedules of diffusers' <c>get_scheduler</c>.</summary>
public enum LearningRateScheduleKind
{
    /// <summary>"constant": the base rate throughout (warm-up is ignored, as in diffusers).</summary>
    Constant,

    /// <summary>"constant_with_warmup": linear from 0 over the warm-up, then the base rate.</summary>
    ConstantWithWarmup,

    /// <summary>"linear": warm-up, then linear decay to 0 at the last step.</summary>
    Linear,

    /// <summary>"cosine": warm-up, then a cosine over <see cref="LearningRateSchedule.NumCycles"/> periods (0.5: one half-wave down to 0).</summary>
    Cosine,

    /// <summary>"cosine_with_restarts": warm-up, then <see cref="LearningRateSchedule.NumCycles"/> half-cosines from the base rate to 0 (hard restarts).</summary>
    CosineWithRestarts,

    /// <summary>"polynomial": warm-up, then (rate - lr_end) * remaining^power + lr_end.</summary>
    Polynomial,

    /// <summary>
    /// "cosine_with_min_lr": warm-up, then the cosine of <see cref="Cosine"/> scaled into
    /// [<see cref="LearningRateSchedule.MinLrRatio"/>, 1] (transformers' and sd-scripts' schedule of that name).
    /// </summary>
    CosineWithMinLr,
}
