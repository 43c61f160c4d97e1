namespace SdTune.Schedulers;

/// <summary>
/// How inference timesteps are picked from the training timesteps (<c>timestep_spacing</c> in a diffusers
/// scheduler config; see "Common Diffusion Noise Schedules and Sample Steps are Flawed", table 2).
/// </summary>
public enum TimestepSpacing
{
    /// <summary>
    /// <c>"leading"</c>: multiples of <c>T / steps</c> counted from 0, plus <c>steps_offset</c> (SD 1.5 with DDIM:
    /// 951, 901, …, 1 for 20 steps).
    /// </summary>
    Leading,

    /// <summary><c>"linspace"</c>: evenly spaced from <c>T − 1</c> down to 0 (both ends included).</summary>
    Linspace,

    /// <summary><c>"trailing"</c>: multiples of <c>T / steps</c> counted down from <c>T</c>, minus one (starts at 999).</summary>
    Trailing,
}
