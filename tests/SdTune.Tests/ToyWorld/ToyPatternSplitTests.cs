using SdTune.ToyWorld;

namespace SdTune.Tests.ToyWorld;

public class ToyPatternSplitTests
{
    private static readonly ToyPattern[] NonSolid = [ToyPattern.Striped, ToyPattern.Dotted, ToyPattern.Checkered, ToyPattern.Halves];

    [Fact]
    public void Every_shape_loses_one_pattern_and_every_pattern_is_held_out_on_two_shapes()
    {
        foreach (var shape in Enum.GetValues<ToyShape>())
        {
            var training = ToyPatternSplit.Training(shape);
            Assert.Equal(3, training.Count);
            Assert.DoesNotContain(ToyPatternSplit.HeldOut(shape), training);
            Assert.Equal(NonSolid.Order(), training.Append(ToyPatternSplit.HeldOut(shape)).Order());
        }

        Assert.All(NonSolid, p => Assert.Equal(2, Enum.GetValues<ToyShape>().Count(s => ToyPatternSplit.HeldOut(s) == p)));
        Assert.Equal(ToyPattern.Striped, ToyPatternSplit.HeldOut(ToyShape.Star));
    }

    [Fact]
    public void Pretraining_scenes_are_patterned_in_the_asked_share_and_never_with_a_held_out_pair()
    {
        var world = new ToyWorldGenerator(32, seed: 3);
        Assert.All(Enumerable.Range(0, 50), i => Assert.Equal(world.Scene(i), world.PretrainingScene(i, 0)));

        var scenes = Enumerable.Range(0, 2000).Select(i => world.PretrainingScene(i, 0.5)).ToList();
        var patterned = scenes.Where(s => s.Pattern != ToyPattern.Solid).ToList();
        Assert.InRange(patterned.Count, 900, 1100);
        Assert.All(scenes, s => s.Validate());
        Assert.All(patterned, s => Assert.Contains(s.Pattern, ToyPatternSplit.Training(s.Shape)));
        Assert.DoesNotContain(scenes, s => s.Shape == ToyShape.Star && s.Pattern == ToyPattern.Striped);
        Assert.Equal(NonSolid.Order(), patterned.Select(s => s.Pattern).Distinct().Order());
        Assert.Contains("and", patterned[0].ToCaption(), StringComparison.Ordinal);

        // The patterned scenes keep the solid scene's shape, colours and placement; the draw is reproducible.
        Assert.All(Enumerable.Range(0, 200), i => Assert.Equal(world.Scene(i) with { Pattern = scenes[i].Pattern, SecondColor = scenes[i].SecondColor }, scenes[i]));
        Assert.Equal(scenes.Take(100), Enumerable.Range(0, 100).Select(i => new ToyWorldGenerator(32, seed: 3).PretrainingScene(i, 0.5)));
    }

    [Fact]
    public void Held_out_pattern_scenes_wear_the_pattern_their_shape_never_shows()
    {
        var world = new ToyWorldGenerator(32, seed: 4);
        var scenes = Enumerable.Range(0, 300).Select(i => world.HeldOutPatternScene(i)).ToList();
        Assert.All(scenes, s =>
        {
            s.Validate();
            Assert.Equal(ToyPatternSplit.HeldOut(s.Shape), s.Pattern);
        });
        Assert.Equal(Enum.GetValues<ToyShape>().Length, scenes.Select(s => s.Shape).Distinct().Count());
    }
}
