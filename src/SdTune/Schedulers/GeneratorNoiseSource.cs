using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Schedulers;

/// <summary>
/// Step noise from one <see cref="torch.Generator"/> that draws the whole batch at once, as diffusers' schedulers do
/// with a single generator. The draw happens on the CPU in float32 and is then moved, so it is the same on every device.
/// </summary>
/// <param name="generator">A CPU generator; the caller keeps ownership.</param>
public sealed class GeneratorNoiseSource(torch.Generator generator) : INoiseSource
{
    private readonly torch.Generator generator = generator ?? throw new ArgumentNullException(nameof(generator));

    /// <inheritdoc/>
    public Tensor Next(long[] shape, ScalarType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(shape);
        using var scope = NewDisposeScope();
        var noise = torch.randn(shape, dtype: ScalarType.Float32, device: CPU, generator: generator);
        return noise.to(dtype, device).MoveToOuterDisposeScope();
    }
}
