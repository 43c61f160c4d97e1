using static TorchSharp.torch;

namespace SdTune.Training;

/// <summary>
/// How the training loop draws each sample's timestep in [0, T), T the schedule's training timesteps:
/// <see cref="Uniform"/> (every method's default) or <see cref="Cubic"/> (the T2I-Adapter's, biased towards noisy
/// timesteps where the structure of the image is decided).
/// </summary>
public static class TimestepSampling
{
    /// <summary>The name of uniform sampling in <c>timestep_sampling</c>.</summary>
    public const string UniformName = "uniform";

    /// <summary>The name of cubic sampling in <c>timestep_sampling</c>.</summary>
    public const string CubicName = "cubic";

    /// <summary>The names a configuration may use.</summary>
    public static IReadOnlyList<string> Names { get; } = [UniformName, CubicName];

    /// <summary>Timesteps uniform in [0, <paramref name="numTrainTimesteps"/>), int64 (<paramref name="count"/>).</summary>
    public static Tensor Uniform(long count, int numTrainTimesteps, Generator generator, Device device) =>
        randint(0, numTrainTimesteps, [count], dtype: ScalarType.Int64, device: device, generator: generator);

    /// <summary>
    /// Timesteps <c>((1 - u³) · T)</c> truncated and clamped to [0, T - 1] for u uniform in [0, 1), int64
    /// (<paramref name="count"/>); their mean is about 0.75 T.
    /// </summary>
    public static Tensor Cubic(long count, int numTrainTimesteps, Generator generator, Device device)
    {
        using var scope = NewDisposeScope();
        var u = rand([count], dtype: ScalarType.Float32, device: device, generator: generator);
        var t = ((1 - u.pow(3)) * numTrainTimesteps).to(ScalarType.Int64).clamp(0, numTrainTimesteps - 1);
        return t.MoveToOuterDisposeScope();
    }

    /// <summary>The sampler called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">An unknown name; the message lists the known ones.</exception>
    public static Func<long, int, Generator, Device, Tensor> Named(string name) => name switch
    {
        UniformName => Uniform,
        CubicName => Cubic,
        _ => throw new ArgumentException($"\"{name}\" is not a timestep sampling; use {string.Join(" or ", Names)}."),
    };
}
