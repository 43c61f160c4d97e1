using static TorchSharp.torch;

namespace SdTune.Training.Optimization;

/// <summary>Reads one-element tensors of any floating type as a double (like Python's <c>.item()</c>).</summary>
internal static class TensorScalar
{
    /// <summary>The value of a one-element tensor, converted exactly to double.</summary>
    public static double ToDouble(Tensor tensor)
    {
        if (tensor.dtype == ScalarType.Float64)
        {
            return tensor.item<double>();
        }

        using var widened = tensor.to(ScalarType.Float64);
        return widened.item<double>();
    }

    /// <summary>
    /// A factor for an in-place op on float32 tensors: unchanged when it fits in float32, else ±infinity. libtorch refuses
    /// a finite scalar beyond float32's range with an exception; infinity it takes, and the update turns the weights
    /// non-finite, which the trainer reports as a diverged run instead of crashing.
    /// </summary>
    public static double Saturate(double value) =>
        Math.Abs(value) <= float.MaxValue || double.IsNaN(value) ? value : Math.CopySign(double.PositiveInfinity, value);
}
