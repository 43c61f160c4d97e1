using SdTune.Training.Optimization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Optimization;

public class GradientClippingTests
{
    [Fact]
    public void Clips_by_the_norm_over_all_parameters()
    {
        using var a = new Parameter(zeros(2));
        using var b = new Parameter(zeros(1));
        using var untouched = new Parameter(zeros(1));
        a.grad = tensor(new float[] { 3, 4 });
        b.grad = tensor(new float[] { 12 });

        var norm = GradientClipping.ClipByGlobalNorm([a, b, untouched], 1.3);

        Assert.Equal(13.0, norm, 5); // sqrt(9 + 16 + 144)
        var scale = 1.3 / (13 + 1e-6);
        Assert.Equal(3 * scale, a.grad!.data<float>()[0], 6);
        Assert.Equal(4 * scale, a.grad!.data<float>()[1], 6);
        Assert.Equal(12 * scale, b.grad!.data<float>()[0], 6);
        Assert.Null(untouched.grad);
    }

    [Fact]
    public void Leaves_small_gradients_alone()
    {
        using var a = new Parameter(zeros(2));
        a.grad = tensor(new float[] { 0.3f, 0.4f });
        Assert.Equal(0.5, GradientClipping.ClipByGlobalNorm([a], 1.0), 6);
        Assert.Equal([0.3f, 0.4f], a.grad!.data<float>().ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipByGlobalNorm([a], 0));
    }
}
