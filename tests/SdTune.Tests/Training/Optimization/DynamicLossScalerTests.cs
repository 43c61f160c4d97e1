using SdTune.Training.Optimization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Optimization;

public class DynamicLossScalerTests
{
    [Fact]
    public void Finite_steps_unscale_step_and_grow_the_scale_after_the_interval()
    {
        using var p = new Parameter(zeros(2));
        using var optimizer = new LionOptimizer([new ParameterGroup("unet", [p], 0.1)]);
        var scaler = new DynamicLossScaler(initialScale: 1024, growthInterval: 2);

        Backward(scaler, p);
        Assert.Equal([1024f, 1024f], p.grad!.data<float>().ToArray());
        Assert.True(scaler.Unscale(optimizer));
        Assert.Equal([1f, 1f], p.grad!.data<float>().ToArray());
        Assert.Throws<InvalidOperationException>(() => scaler.Unscale(optimizer));
        Assert.True(scaler.Step(optimizer));
        Assert.Equal(-0.1f, p.data<float>()[0], 6);
        Assert.Equal(1024, scaler.Scale);
        Assert.Equal(1, scaler.GrowthTracker);

        optimizer.ZeroGrad();
        Backward(scaler, p);
        Assert.True(scaler.Step(optimizer)); // unscales by itself
        Assert.Equal(2048, scaler.Scale);
        Assert.Equal(0, scaler.GrowthTracker);
    }

    [Theory]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NaN)]
    public void A_step_with_non_finite_gradients_is_skipped_and_the_scale_backs_off(float bad)
    {
        using var p = new Parameter(zeros(3));
        using var q = new Parameter(zeros(1));
        using var optimizer = new AdamWOptimizer([new ParameterGroup("unet", [p], 0.1), new ParameterGroup("text_encoder", [q], 0.1)]);
        var scaler = new DynamicLossScaler(initialScale: 1024, growthInterval: 2);
        Backward(scaler, p);
        Assert.True(scaler.Step(optimizer));
        using var before = p.detach().clone();

        optimizer.ZeroGrad();
        p.grad = tensor(new float[] { 1, bad, 1 });
        q.grad = tensor(new float[] { 1 });
        Assert.False(scaler.Step(optimizer));

        Assert.True(before.eq(p).all().item<bool>(), "a skipped step must not touch the parameters");
        Assert.Equal(0f, q.data<float>()[0]);
        Assert.Equal(512, scaler.Scale);
        Assert.Equal(0, scaler.GrowthTracker);
        Assert.Equal(1, scaler.SkippedSteps);
        using var state = optimizer.GetState();
        Assert.DoesNotContain("param.1.0.exp_avg", state.Tensors.Keys);
    }

    [Fact]
    public void Restore_sets_scale_and_tracker_for_resuming()
    {
        var scaler = new DynamicLossScaler();
        scaler.Restore(4096, 7);
        Assert.Equal(4096, scaler.Scale);
        Assert.Equal(7, scaler.GrowthTracker);
        Assert.Throws<ArgumentOutOfRangeException>(() => scaler.Restore(0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new DynamicLossScaler(backoffFactor: 1.5));
    }

    private static void Backward(DynamicLossScaler scaler, Parameter p)
    {
        using var scope = NewDisposeScope();
        scaler.ScaleLoss(p.sum()).backward();
    }
}
