using SdTune.Schedulers;

namespace SdTune.Pipelines.Control;

/// <summary>
/// When a control acts, in A1111's terms (sd-webui-controlnet's guidance start/end): each step of the run has the
/// fraction <c>k / total</c>, k counted from 0 over the steps actually run; <c>total</c> is the number of steps for
/// txt2img and, as A1111 counts img2img (its sampler is launched for <c>t_enc + 1</c> steps), the steps run plus one.
/// A control acts at the steps whose fraction lies in [start, end). (The extension's test is
/// <c>start ≤ fraction ≤ end</c>, one more step when <c>end · total</c> is whole; the half-open window makes
/// start = end mean no control, as in diffusers, and agrees with the extension everywhere else.)
/// </summary>
public static class ControlGuidance
{
    /// <summary>The fraction of plan step <paramref name="stepIndex"/>.</summary>
    /// <param name="stepIndex">An index in [<see cref="SamplingPlan.StartIndex"/>, <see cref="SamplingPlan.EndIndex"/>).</param>
    /// <param name="plan">The run's plan.</param>
    /// <param name="img2img">Whether the run is img2img (counted over the run plus one step).</param>
    public static double Fraction(int stepIndex, SamplingPlan plan, bool img2img)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var run = plan.EndIndex - plan.StartIndex;
        return (double)(stepIndex - plan.StartIndex) / (img2img ? run + 1 : run);
    }

    /// <summary>Whether a control with the window [<paramref name="start"/>, <paramref name="end"/>) acts at <paramref name="fraction"/>.</summary>
    public static bool IsActive(double fraction, double start, double end) => fraction >= start && fraction < end;
}
