namespace SdTune.Training.Data;

/// <summary>The random numbers the data layer draws (caption shuffling and dropout, flips, random crops, epoch order).</summary>
public interface IRandomSource
{
    /// <summary>A uniform number in [0, 1).</summary>
    double NextDouble();

    /// <summary>A uniform integer in [0, <paramref name="maxExclusive"/>).</summary>
    /// <param name="maxExclusive">The exclusive upper bound (at least 1).</param>
    int NextInt(int maxExclusive);
}
