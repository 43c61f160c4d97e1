using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Schedulers;

/// <summary>
/// AUTOMATIC1111-style seeded noise: image <c>i</c> of a batch has seed <c>seed + i</c> and its own CPU
/// <see cref="torch.Generator"/>; each image's noise is drawn separately in float32 and the images are stacked.
/// The first draw is the initial latent noise (<see cref="Initial"/>); later draws (<see cref="Next"/>) continue
/// from the same generators, as A1111's ancestral samplers do. Results are identical on any device.
/// </summary>
public sealed class SeededNoise : INoiseSource, IDisposable
{
    private readonly long[] seeds;
    private readonly long etaNoiseSeedDelta;
    private torch.Generator[] generators;

    /// <summary>Creates one generator per image.</summary>
    /// <param name="seed">Seed of the first image (A1111 seeds are 0 … 2³² − 1).</param>
    /// <param name="batchSize">Number of images.</param>
    /// <param name="etaNoiseSeedDelta">
    /// A1111's "eta noise seed delta" (ENSD, e.g. 31337): when not 0, the generators are re-seeded with
    /// <c>seed + i + delta</c> right after the initial noise, so step noise differs from the initial draw's stream.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">A seed would be negative, or the batch is empty.</exception>
    public SeededNoise(long seed, int batchSize, long etaNoiseSeedDelta = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(seed);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(seed + etaNoiseSeedDelta, nameof(etaNoiseSeedDelta));
        seeds = [.. Enumerable.Range(0, batchSize).Select(i => seed + i)];
        this.etaNoiseSeedDelta = etaNoiseSeedDelta;
        generators = CreateGenerators(0);
    }

    /// <summary>The seed of each image.</summary>
    public IReadOnlyList<long> Seeds => seeds;

    /// <summary>
    /// The initial noise for txt2img or img2img: <c>(batch, C, H, W)</c>, image <c>i</c> drawn by
    /// <c>torch.randn((C, H, W), generator=torch.Generator().manual_seed(seed + i))</c>.
    /// </summary>
    /// <param name="seed">Seed of the first image.</param>
    /// <param name="shape">The latent shape, batch first.</param>
    /// <param name="dtype">dtype of the result (drawn in float32, then cast).</param>
    /// <param name="device">Device of the result (drawn on the CPU, then moved); null for the CPU.</param>
    public static Tensor InitialNoise(long seed, long[] shape, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0 || shape[0] < 1 || shape[0] > int.MaxValue)
        {
            throw new ArgumentException($"The latent shape must start with a positive batch size, got [{string.Join(", ", shape)}].", nameof(shape));
        }

        using var noise = new SeededNoise(seed, (int)shape[0]);
        return noise.Initial(shape, dtype, device ?? CPU);
    }

    /// <summary>Draws the initial noise, then applies the eta noise seed delta (if any) to the generators.</summary>
    /// <param name="shape">The latent shape; its batch size must equal the number of seeds.</param>
    /// <param name="dtype">dtype of the result.</param>
    /// <param name="device">Device of the result.</param>
    public Tensor Initial(long[] shape, ScalarType dtype, Device device)
    {
        var noise = Draw(shape, dtype, device);
        if (etaNoiseSeedDelta != 0)
        {
            DisposeGenerators();
            generators = CreateGenerators(etaNoiseSeedDelta);
        }

        return noise;
    }

    /// <inheritdoc/>
    public Tensor Next(long[] shape, ScalarType dtype, Device device) => Draw(shape, dtype, device);

    /// <inheritdoc/>
    public void Dispose() => DisposeGenerators();

    private Tensor Draw(long[] shape, ScalarType dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(device);
        if (shape.Length == 0 || shape[0] != seeds.Length)
        {
            throw new ArgumentException(
                $"Noise shape [{string.Join(", ", shape)}] does not start with the batch size {seeds.Length} these seeds were made for.", nameof(shape));
        }

        using var scope = NewDisposeScope();
        var imageShape = shape[1..];
        var images = generators.Select(g => torch.randn(imageShape, dtype: ScalarType.Float32, device: CPU, generator: g)).ToArray();
        return torch.stack(images).to(dtype, device).MoveToOuterDisposeScope();
    }

    private torch.Generator[] CreateGenerators(long delta) =>
        [.. seeds.Select(s => new torch.Generator(checked((ulong)(s + delta)), CPU))];

    private void DisposeGenerators()
    {
        foreach (var generator in generators)
        {
            generator.Dispose();
        }
    }
}
