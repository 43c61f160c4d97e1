using SdTune.Training.Data;

namespace SdTune.ToyWorld.Benchmark;

/// <summary>
/// The control benchmark's split of position × shape: every shape is held out of the control training set at two
/// of the nine positions (shape k at positions 2k and 2k + 1, modulo 9), so 16 of the 72 combinations are never
/// seen with a condition image while every shape and every position still is. The training scenes are the toy
/// world's own (<see cref="ToyWorldGenerator.Scene"/>) minus the held-out combinations; the evaluation scenes are
/// exactly the held-out combinations, each with a (shape, colour, background) triple the base model knows.
/// </summary>
public static class ControlCases
{
    private const long EvaluationStream = 0xC0_E7A1;

    /// <summary>Whether the combination is held out of the control training set.</summary>
    public static bool IsHeldOut(ToyShape shape, ToyPosition position)
    {
        var offset = (((int)position - (2 * (int)shape)) % 9 + 9) % 9;
        return offset < 2;
    }

    /// <summary>The held-out combinations, shape by shape.</summary>
    public static IReadOnlyList<(ToyShape Shape, ToyPosition Position)> HeldOut() =>
        [.. from shape in Enum.GetValues<ToyShape>() from position in Enum.GetValues<ToyPosition>() where IsHeldOut(shape, position) select (shape, position)];

    /// <summary>
    /// The first <paramref name="count"/> toy-world scenes whose position × shape is not held out, each with a caption
    /// in the generator's seeded mix of phrasings.
    /// </summary>
    /// <param name="generator">The world.</param>
    /// <param name="count">How many.</param>
    public static IReadOnlyList<(ToyScene Scene, string Caption)> Training(ToyWorldGenerator generator, int count)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var items = new List<(ToyScene, string)>(count);
        for (long index = 0; items.Count < count; index++)
        {
            var scene = generator.Scene(index);
            if (!IsHeldOut(scene.Shape, scene.Position))
            {
                items.Add((scene, scene.ToCaption(generator.CaptionStyle(index))));
            }
        }

        return items;
    }

    /// <summary>
    /// One scene per held-out combination: a seeded colour and background among the generator's training triples of
    /// that shape, a seeded size and a jitter; the same for every seed of the benchmark.
    /// </summary>
    /// <param name="generator">The world.</param>
    public static IReadOnlyList<ToyScene> Evaluation(ToyWorldGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        return [.. HeldOut().Select((c, k) =>
        {
            var random = SeededRandom.For(generator.Seed, EvaluationStream, k);
            var triple = random.Choice(generator.Split.Training.Where(t => t.Shape == c.Shape).ToList());
            var scene = new ToyScene(c.Shape, triple.Color, triple.Background, (ToySize)random.NextInt(3), c.Position);
            return generator.Jitter(scene, -1 - k);
        })];
    }
}
