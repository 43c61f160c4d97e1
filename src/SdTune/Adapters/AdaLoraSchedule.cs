namespace SdTune.Adapters;

/// <summary>
/// AdaLoRA's rank budget over a run of <see cref="TotalSteps"/> optimizer steps (t counts completed steps from 0): the
/// initial budget through the warm-up (<c>tinit</c> steps), a cubic fall to the target between warm-up and the final
/// phase, <c>b(t) = b_T + (b_0 − b_T)(1 − (t − t_i)/(T − t_i − t_f))³</c> (rounded down, as PEFT), then the target for
/// the last <c>tfinal</c> steps. Allocation runs every <see cref="DeltaT"/> steps from the end of the warm-up and once
/// more at <see cref="FinalStep"/>, where the mask becomes fixed.
/// </summary>
/// <param name="InitialBudget">b_0: the initial rank times the number of adapted layers.</param>
/// <param name="TargetBudget">b_T: the target rank times the number of adapted layers.</param>
/// <param name="Tinit">Warm-up steps at the initial budget.</param>
/// <param name="Tfinal">Final steps at the target budget with the mask fixed.</param>
/// <param name="DeltaT">Steps between allocations in the middle phase.</param>
/// <param name="TotalSteps">T, the run's optimizer steps.</param>
public sealed record AdaLoraSchedule(int InitialBudget, int TargetBudget, long Tinit, long Tfinal, long DeltaT, long TotalSteps)
{
    /// <summary>
    /// The step (0-based) whose allocation fixes the mask at the target budget: <c>T − t_f</c>, or the last step when
    /// there is no final phase, so a run always ends at the target.
    /// </summary>
    public long FinalStep => Math.Min(TotalSteps - Tfinal, TotalSteps - 1);

    /// <summary>A problem with the settings as (key, message); null when they are consistent.</summary>
    public (string Key, string Message)? Problem()
    {
        if (TargetBudget > InitialBudget)
        {
            return ("target_r", $"the target budget ({TargetBudget}) is above the initial one ({InitialBudget}): target_r must not exceed init_r, the budget can only fall.");
        }

        if (DeltaT < 1)
        {
            return ("deltaT", "must be at least 1.");
        }

        return Tinit + Tfinal >= TotalSteps
            ? ("tinit", $"tinit + tfinal = {Tinit + Tfinal} leaves no steps for the budget to fall in a run of {TotalSteps} steps; lower them or train longer.")
            : null;
    }

    /// <summary>The budget in force after step <paramref name="t"/>.</summary>
    public int Budget(long t)
    {
        if (t < Tinit)
        {
            return InitialBudget;
        }

        if (t >= FinalStep)
        {
            return TargetBudget;
        }

        var progress = (double)(t - Tinit) / (TotalSteps - Tinit - Tfinal);
        var remaining = Math.Pow(1 - progress, 3);
        return (int)Math.Floor(TargetBudget + ((InitialBudget - TargetBudget) * remaining));
    }

    /// <summary>What happens after step <paramref name="t"/>: nothing (warm-up), an allocation, the final one, or applying the fixed mask.</summary>
    public AdaLoraAction ActionAfter(long t) =>
        t < Tinit ? AdaLoraAction.Score
        : t < FinalStep ? ((t - Tinit) % DeltaT == 0 ? AdaLoraAction.Allocate : AdaLoraAction.Score)
        : t == FinalStep ? AdaLoraAction.Fix
        : AdaLoraAction.ApplyFixed;
}

/// <summary>What AdaLoRA does after an optimizer step.</summary>
public enum AdaLoraAction
{
    /// <summary>Update the importance scores only.</summary>
    Score,

    /// <summary>Update the scores and mask every triplet outside the current budget.</summary>
    Allocate,

    /// <summary>Update the scores, mask to the target budget and keep that mask from now on.</summary>
    Fix,

    /// <summary>Apply the fixed mask again (the final phase: masked singular values stay zero).</summary>
    ApplyFixed,
}
