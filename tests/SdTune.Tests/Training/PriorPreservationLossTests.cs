using SdTune.Training;
using SdTune.Training.Data;
using static TorchSharp.torch;

namespace SdTune.Tests.Training;

public sealed class PriorPreservationLossTests
{
    private static TrainingSample Sample(bool isClass, double weight) => new()
    {
        ImagePath = isClass ? "class.png" : "instance.png",
        DatasetIndex = 0,
        SubsetIndex = isClass ? 1 : 0,
        Bucket = new PixelSize(32, 32),
        ResizedSize = new PixelSize(32, 32),
        Crop = new PixelRect(0, 0, 32, 32),
        Flip = false,
        Caption = isClass ? "a dog" : "a sks dog",
        LossWeight = weight,
        IsReg = isClass,
        Conditioning = default,
    };

    [Fact]
    public void DreamBooth_loss_is_the_instance_mean_plus_the_weighted_prior_mean()
    {
        // Instance examples first, then class examples, as the reference's collate function builds the batch.
        var samples = new[] { Sample(false, 1), Sample(false, 1), Sample(true, 0.5), Sample(true, 0.5) };
        using var losses = tensor(new float[] { 1, 2, 3, 5 });
        using var combined = PriorPreservationLoss.Combine(losses, samples);
        Assert.Equal(1.5 + (0.5 * 4.0), combined.item<float>(), 6);

        // kohya's weighting of the same batch: mean(w_i * l_i) = (1 + 2 + 1.5 + 2.5) / 4.
        using var weighted = PriorPreservationLoss.WeightedMean(losses, samples);
        Assert.Equal(7.0 / 4.0, weighted.item<float>(), 6);
    }

    [Fact]
    public void A_batch_without_class_examples_is_the_plain_mean_and_gradients_follow_the_split()
    {
        using var plain = tensor(new float[] { 2, 4 });
        Assert.Equal(3.0, PriorPreservationLoss.Combine(plain, [Sample(false, 1), Sample(false, 1)]).item<float>(), 6);

        using var losses = tensor(new float[] { 1, 2, 3 }, requires_grad: true);
        var loss = PriorPreservationLoss.Combine(losses, [Sample(false, 1), Sample(true, 2), Sample(true, 2)]);
        loss.backward();
        Assert.Equal(new float[] { 1, 1, 1 }, losses.grad!.data<float>().ToArray());
        Assert.Equal(1 + (2 * 2.5), loss.item<float>(), 6);
    }

    [Fact]
    public void DreamBooth_batches_from_the_run_configuration_put_instance_examples_before_class_examples()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.DreamBoothConfig(dir.Path) with { TrainBatchSize = 2 };
        var data = TrainingDataAccess.Build(config);
        var batch = data[0];
        Assert.Equal([false, false, true, true], batch.Samples.Select(s => s.IsReg));
        Assert.Equal([1.0, 1.0, 0.5, 0.5], batch.Samples.Select(s => s.LossWeight));
        Assert.Equal(["a photo of sks toy", "a photo of sks toy", "a photo of a toy", "a photo of a toy"], batch.Samples.Select(s => s.Caption));
    }

    [Fact]
    public void Mismatched_losses_are_rejected()
    {
        using var losses = tensor(new float[] { 1, 2 });
        Assert.Throws<ArgumentException>(() => PriorPreservationLoss.Combine(losses, [Sample(false, 1)]));
    }

    private static class TrainingDataAccess
    {
        public static IReadOnlyList<TrainingBatch> Build(TrainingConfig config)
        {
            using var model = TrainingTestKit.TinyModel();
            return TrainingData.Build(config.Resolve(model), new ImageFileReader(), new List<string>()).GetEpoch(1);
        }
    }
}
