using SdTune.ToyWorld;

namespace SdTune.Tests.ToyWorld;

public class ToyWorldSplitTests
{
    [Fact]
    public void Holds_out_about_twelve_percent_disjointly_and_deterministically()
    {
        var split = ToyWorldSplit.Default;
        var all = ToyWorldSplit.All();
        Assert.Equal(8 * 8 * 7, all.Count);
        Assert.Equal(54, split.HeldOut.Count); // round(448 * 0.12)
        Assert.Equal(all.Count, split.Training.Count + split.HeldOut.Count);
        Assert.Empty(split.Training.Intersect(split.HeldOut));
        Assert.Equal(split.HeldOut, ToyWorldSplit.Create(0, 0.12).HeldOut);
        Assert.NotEqual(split.HeldOut, ToyWorldSplit.Create(1, 0.12).HeldOut);
    }

    [Theory]
    [InlineData(0, 0.12)]
    [InlineData(7, 0.15)]
    [InlineData(9, 0.5)]
    public void Every_attribute_pair_stays_in_training(long seed, double fraction)
    {
        var split = ToyWorldSplit.Create(seed, fraction);
        var training = split.Training;
        foreach (var c in split.HeldOut)
        {
            Assert.Contains(training, t => t.Shape == c.Shape && t.Color == c.Color);
            Assert.Contains(training, t => t.Shape == c.Shape && t.Background == c.Background);
            Assert.Contains(training, t => t.Color == c.Color && t.Background == c.Background);
        }

        Assert.Equal(8, training.Select(t => t.Shape).Distinct().Count());
        Assert.Equal(8, training.Select(t => t.Color).Distinct().Count());
        Assert.Equal(8, training.Select(t => t.Background).Distinct().Count());
    }

    [Fact]
    public void Rejects_fractions_outside_the_range()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ToyWorldSplit.Create(0, 0.6));
        Assert.Throws<ArgumentOutOfRangeException>(() => ToyWorldSplit.Create(0, double.NaN));
    }
}
