namespace SdTune.Schedulers;

/// <summary>Per-run settings of <see cref="ISampler.Sample"/>.</summary>
public sealed record SamplerRunOptions
{
    /// <summary>
    /// Fresh noise for stochastic samplers (Euler ancestral, DDIM with η &gt; 0), usually the <see cref="SeededNoise"/>
    /// that drew the initial latents; required by them, ignored by deterministic ones.
    /// </summary>
    public INoiseSource? Noise { get; init; }

    /// <summary>Called after every step (progress bars, previews); null for none.</summary>
    public Action<SamplerProgress>? Progress { get; init; }

    /// <summary>Checked before every step; cancellation throws <see cref="OperationCanceledException"/>.</summary>
    public CancellationToken CancellationToken { get; init; }
}
