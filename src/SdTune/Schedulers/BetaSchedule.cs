namespace SdTune.Schedulers;

/// <summary>How the training betas are laid out (<c>beta_schedule</c> in a diffusers scheduler config).</summary>
public enum BetaSchedule
{
    /// <summary><c>"linear"</c>: betas evenly spaced from <c>beta_start</c> to <c>beta_end</c>.</summary>
    Linear,

    /// <summary><c>"scaled_linear"</c>: square roots evenly spaced, then squared (every Stable Diffusion model).</summary>
    ScaledLinear,

    /// <summary><c>"squaredcos_cap_v2"</c>: the cosine schedule of Nichol &amp; Dhariwal, each beta capped at 0.999.</summary>
    SquaredCosCapV2,
}
