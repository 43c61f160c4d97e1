namespace SdTune.Pipelines.Grids;

/// <summary>The seed a grid draws for a negative (random) seed: once, so that every cell asked for "random" shares it.</summary>
internal static class GridSeeds
{
    /// <summary>A random seed in the range the pipeline draws its own from.</summary>
    public static long Random() => System.Random.Shared.NextInt64(0, 4294967294L);
}
