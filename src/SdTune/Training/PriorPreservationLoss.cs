using SdTune.Training.Data;
using static TorchSharp.torch;

namespace SdTune.Training;

/// <summary>
/// Losses over a batch of per-sample losses. DreamBooth with prior preservation (diffusers): the mean over the instance
/// samples plus the mean over the class samples times their weight, <c>instance + prior_loss_weight · prior</c>. kohya's
/// weighting: every sample's loss times its weight (1 for training images, prior_loss_weight for regularisation images),
/// then the mean over the batch.
/// </summary>
public static class PriorPreservationLoss
{
    /// <summary>
    /// <c>mean(instance losses) + mean(weight · class losses)</c>; a batch without class samples is the plain mean of the
    /// instance losses, one without instance samples the weighted mean of the class losses.
    /// </summary>
    /// <param name="perSampleLoss">float (B) losses, in the order of <paramref name="samples"/>.</param>
    /// <param name="samples">The samples; <see cref="TrainingSample.IsReg"/> marks class images and
    /// <see cref="TrainingSample.LossWeight"/> holds their weight.</param>
    public static Tensor Combine(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples)
    {
        Check(perSampleLoss, samples);
        using var scope = NewDisposeScope();
        var instance = Indices(samples, reg: false);
        var prior = Indices(samples, reg: true);
        Tensor? total = null;
        if (instance.Length > 0)
        {
            total = perSampleLoss.index_select(0, tensor(instance, device: perSampleLoss.device)).mean();
        }

        if (prior.Length > 0)
        {
            var weights = tensor(prior.Select(i => (float)samples[(int)i].LossWeight).ToArray(), device: perSampleLoss.device).to(perSampleLoss.dtype);
            var priorLoss = (perSampleLoss.index_select(0, tensor(prior, device: perSampleLoss.device)) * weights).mean();
            total = total is null ? priorLoss : total + priorLoss;
        }

        return total!.MoveToOuterDisposeScope();
    }

    /// <summary>kohya's reduction: <c>mean(weight_i · loss_i)</c> over the batch.</summary>
    /// <param name="perSampleLoss">float (B) losses.</param>
    /// <param name="samples">The samples with their <see cref="TrainingSample.LossWeight"/>.</param>
    public static Tensor WeightedMean(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples)
    {
        Check(perSampleLoss, samples);
        using var scope = NewDisposeScope();
        var weights = tensor(samples.Select(s => (float)s.LossWeight).ToArray(), device: perSampleLoss.device).to(perSampleLoss.dtype);
        return (perSampleLoss * weights).mean().MoveToOuterDisposeScope();
    }

    private static long[] Indices(IReadOnlyList<TrainingSample> samples, bool reg) =>
        [.. Enumerable.Range(0, samples.Count).Where(i => samples[i].IsReg == reg).Select(i => (long)i)];

    private static void Check(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples)
    {
        ArgumentNullException.ThrowIfNull(perSampleLoss);
        ArgumentNullException.ThrowIfNull(samples);
        if (perSampleLoss.dim() != 1 || perSampleLoss.shape[0] != samples.Count || samples.Count == 0)
        {
            throw new ArgumentException($"Expected one loss per sample ({samples.Count}), got shape [{string.Join(", ", perSampleLoss.shape)}].", nameof(perSampleLoss));
        }
    }
}
