using SdTune.ToyWorld;
using SkiaSharp;
using Xunit.Abstractions;

namespace SdTune.Tests.ToyWorld;

public class ToyEvaluatorTests(ITestOutputHelper output)
{
    private static readonly Lazy<ToyEvaluator> Evaluator32 = new(() => new ToyEvaluator(32));

    // Every (shape, colour, background) triple once per cycle with size and position cycling independently, then a
    // seeded jitter: 2240 scenes cover all triples five times and every size and position with every shape.
    private static List<ToyScene> AllCombinations(ToyWorldGenerator generator, int count)
    {
        var triples = ToyWorldSplit.All();
        var scenes = new List<ToyScene>(count);
        for (var i = 0; i < count; i++)
        {
            var t = triples[i % triples.Count];
            var size = (ToySize)((i / 7) % 3);
            var position = (ToyPosition)((i / 3) % 9);
            scenes.Add(generator.Jitter(new ToyScene(t.Shape, t.Color, t.Background, size, position), i));
        }

        return scenes;
    }

    private Dictionary<string, double> Accuracy(string label, ToyEvaluator evaluator, IReadOnlyList<ToyScene> scenes, Func<SKBitmap, int, SKBitmap>? degrade)
    {
        var generator = new ToyWorldGenerator(evaluator.ImageSize);
        var counts = new Dictionary<string, int> { ["shape"] = 0, ["color"] = 0, ["background"] = 0, ["size"] = 0, ["position"] = 0, ["fill"] = 0, ["all"] = 0 };
        var failures = new List<string>();
        for (var i = 0; i < scenes.Count; i++)
        {
            using var clean = generator.Render(scenes[i]);
            using var image = degrade is null ? clean.Copy() : degrade(clean, i);
            var reading = evaluator.Read(image);
            var m = reading.Matches(scenes[i]);
            counts["shape"] += m.Shape ? 1 : 0;
            counts["color"] += m.Color ? 1 : 0;
            counts["background"] += m.Background ? 1 : 0;
            counts["size"] += m.Size ? 1 : 0;
            counts["position"] += m.Position ? 1 : 0;
            counts["fill"] += m.Fill ? 1 : 0;
            counts["all"] += m.All ? 1 : 0;
            if (!m.All && failures.Count < 15)
            {
                failures.Add($"  expected \"{scenes[i]}\" ({scenes[i].Pattern}), read \"{reading}\"");
            }
        }

        var accuracy = counts.ToDictionary(p => p.Key, p => (double)p.Value / scenes.Count);
        output.WriteLine($"{label} ({scenes.Count} images, {evaluator.ImageSize}px): " + string.Join(", ", accuracy.Select(p => $"{p.Key} {p.Value:P2}")));
        foreach (var f in failures)
        {
            output.WriteLine(f);
        }

        return accuracy;
    }

    [Fact]
    public void Reads_clean_renderings_at_least_99_percent_per_attribute()
    {
        var evaluator = Evaluator32.Value;
        var accuracy = Accuracy("clean", evaluator, AllCombinations(new ToyWorldGenerator(32, seed: 11), 2240), null);
        Assert.All(accuracy, p => Assert.True(p.Value >= 0.99, $"{p.Key}: {p.Value:P2}"));
    }

    [Fact]
    public void Reads_blurred_and_noisy_renderings_at_least_95_percent_per_attribute()
    {
        var evaluator = Evaluator32.Value;
        var scenes = AllCombinations(new ToyWorldGenerator(32, seed: 12), 2240);
        var accuracy = Accuracy("blur 0.7 + noise 8", evaluator, scenes, (image, i) =>
        {
            using var blurred = ToyImages.Blur(image, 0.7f);
            return ToyImages.AddNoise(blurred, 8, i);
        });
        Assert.All(accuracy.Where(p => p.Key != "all"), p => Assert.True(p.Value >= 0.95, $"{p.Key}: {p.Value:P2}"));
    }
}
