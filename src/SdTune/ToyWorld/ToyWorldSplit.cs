using SdTune.Training.Data;

namespace SdTune.ToyWorld;

/// <summary>
/// Splits the (shape, colour, background) triples into those used for pretraining and a held-out set never shown
/// to the base model, to measure compositional generalisation. The split is a pure function of the seed and keeps
/// every pair of attributes (shape + colour, shape + background, colour + background), and so every single
/// attribute, in the training part.
/// </summary>
public sealed class ToyWorldSplit
{
    private readonly HashSet<ToyCombination> _heldOut;

    private ToyWorldSplit(long seed, List<ToyCombination> training, List<ToyCombination> heldOut)
    {
        Seed = seed;
        Training = training;
        HeldOut = heldOut;
        _heldOut = [.. heldOut];
    }

    /// <summary>The default split (seed 0, 12% held out).</summary>
    public static ToyWorldSplit Default { get; } = Create(0, 0.12);

    /// <summary>The seed the split was drawn with.</summary>
    public long Seed { get; }

    /// <summary>The triples used for pretraining, in enum order.</summary>
    public IReadOnlyList<ToyCombination> Training { get; }

    /// <summary>The held-out triples, in enum order.</summary>
    public IReadOnlyList<ToyCombination> HeldOut { get; }

    /// <summary>Every valid triple (background differs from the colour), in enum order.</summary>
    public static IReadOnlyList<ToyCombination> All() =>
        (from shape in Enum.GetValues<ToyShape>()
         from color in Enum.GetValues<ToyColor>()
         from background in Enum.GetValues<ToyColor>()
         where background != color
         select new ToyCombination(shape, color, background)).ToList();

    /// <summary>Draws a split.</summary>
    /// <param name="seed">The seed.</param>
    /// <param name="heldOutFraction">The fraction of triples to hold out, in [0, 0.5].</param>
    public static ToyWorldSplit Create(long seed, double heldOutFraction)
    {
        if (!(heldOutFraction is >= 0 and <= 0.5))
        {
            throw new ArgumentOutOfRangeException(nameof(heldOutFraction), heldOutFraction, "The held-out fraction must be in [0, 0.5].");
        }

        var all = All();
        var target = (int)Math.Round(all.Count * heldOutFraction);
        var order = Enumerable.Range(0, all.Count).ToList();
        SeededRandom.For(seed, 0x70E).Shuffle(order);

        // Count how often each pair stays in training; a triple is held out only if none of its pairs would vanish.
        var pairs = new Dictionary<(int Kind, int A, int B), int>();
        foreach (var c in all)
        {
            foreach (var key in Pairs(c))
            {
                pairs[key] = pairs.GetValueOrDefault(key) + 1;
            }
        }

        var heldOut = new HashSet<int>();
        foreach (var i in order)
        {
            if (heldOut.Count >= target)
            {
                break;
            }

            var keys = Pairs(all[i]);
            if (keys.All(k => pairs[k] > 1))
            {
                heldOut.Add(i);
                foreach (var key in keys)
                {
                    pairs[key]--;
                }
            }
        }

        return new ToyWorldSplit(
            seed,
            all.Where((_, i) => !heldOut.Contains(i)).ToList(),
            all.Where((_, i) => heldOut.Contains(i)).ToList());
    }

    /// <summary>True when the triple is held out of pretraining.</summary>
    /// <param name="combination">The triple.</param>
    public bool IsHeldOut(ToyCombination combination) => _heldOut.Contains(combination);

    private static (int Kind, int A, int B)[] Pairs(ToyCombination c) =>
        [(0, (int)c.Shape, (int)c.Color), (1, (int)c.Shape, (int)c.Background), (2, (int)c.Color, (int)c.Background)];
}
