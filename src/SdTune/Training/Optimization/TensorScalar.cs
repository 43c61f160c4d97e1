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
}
