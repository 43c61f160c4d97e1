namespace SdTune.Training;

/// <summary>The loss became NaN or infinite; training stopped before the step was applied, leaving earlier saves intact.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="step">The optimizer step (1-based) whose loss was not finite.</param>
    /// <param name="loss">The loss value.</param>
    /// <param name="lastSave">The most recent output or state saved before, if any.</param>
    public TrainingDivergedException(long step, double loss, string? lastSave)
        : base($"Training stopped at step {step}: the loss is {loss} (not finite). Nothing of this step was applied or saved; " +
            (lastSave is null ? "no earlier save exists." : $"the last good save is {lastSave}.") +
            " Lower the learning rate, use bf16 or no mixed precision, or check the data.")
    {
        Step = step;
        Loss = loss;
        LastSave = lastSave;
    }

    /// <summary>The optimizer step (1-based) whose loss was not finite.</summary>
    public long Step { get; }

    /// <summary>The loss value.</summary>
    public double Loss { get; }

    /// <summary>The most recent save before the failure, if any.</summary>
    public string? LastSave { get; }
}
