namespace SdTune.ToyWorld.Pretraining;

/// <summary>The VAE stage's rate: linear warm-up, then cosine decay to a tenth over whichever runs out first, the steps or the time.</summary>
internal static class ToyLearningRate
{
    public static double Factor(int step, int warmup, int totalSteps, double elapsedSeconds, double? budgetSeconds)
    {
        if (step < warmup)
        {
            return (step + 1) / (double)(warmup + 1);
        }

        var progress = (double)step / totalSteps;
        if (budgetSeconds is { } budget)
        {
            progress = Math.Max(progress, elapsedSeconds / budget);
        }

        progress = Math.Clamp(progress, 0, 1);
        return 0.1 + (0.9 * 0.5 * (1 + Math.Cos(Math.PI * progress)));
    }
}
