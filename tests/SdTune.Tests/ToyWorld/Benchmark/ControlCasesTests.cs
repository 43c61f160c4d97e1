using SdTune.ToyWorld;
using SdTune.ToyWorld.Benchmark;

namespace SdTune.Tests.ToyWorld.Benchmark;

public class ControlCasesTests
{
    [Fact]
    public void Two_positions_of_every_shape_are_held_out_and_every_shape_and_position_stays_in_training()
    {
        var heldOut = ControlCases.HeldOut();
        Assert.Equal(16, heldOut.Count);
        Assert.Equal(heldOut.Count, heldOut.Distinct().Count());
        Assert.All(Enum.GetValues<ToyShape>(), shape => Assert.Equal(2, heldOut.Count(c => c.Shape == shape)));
        Assert.All(Enum.GetValues<ToyPosition>(), position =>
        {
            Assert.Contains(heldOut, c => c.Position == position);
            Assert.True(Enum.GetValues<ToyShape>().Count(s => !ControlCases.IsHeldOut(s, position)) >= 6, $"{position} keeps at least six shapes in training");
        });
    }

    [Fact]
    public void Training_scenes_avoid_the_held_out_combinations_and_evaluation_scenes_are_exactly_them()
    {
        var generator = new ToyWorldGenerator(32, seed: 11);
        var training = ControlCases.Training(generator, 200);
        Assert.Equal(200, training.Count);
        Assert.DoesNotContain(training, t => ControlCases.IsHeldOut(t.Scene.Shape, t.Scene.Position));
        var seen = training.Select(t => (t.Scene.Shape, t.Scene.Position)).ToHashSet();
        Assert.True(seen.Count >= 50, $"{seen.Count} of the 56 trained combinations appear in 500 scenes");
        Assert.All(Enum.GetValues<ToyShape>(), shape => Assert.True(seen.Count(c => c.Shape == shape) >= 6, $"{shape} appears at six or more positions"));
        Assert.All(Enum.GetValues<ToyPosition>(), position => Assert.True(seen.Count(c => c.Position == position) >= 5, $"{position} appears with five or more shapes"));

        var evaluation = ControlCases.Evaluation(generator);
        Assert.Equal(ControlCases.HeldOut(), evaluation.Select(s => (s.Shape, s.Position)).ToList());
        Assert.All(evaluation, s =>
        {
            s.Validate();
            Assert.False(generator.Split.IsHeldOut(new ToyCombination(s.Shape, s.Color, s.Background)), $"{s}: the base model knows the triple");
        });
        Assert.Equal(evaluation, ControlCases.Evaluation(new ToyWorldGenerator(32, seed: 11)));
        Assert.NotEqual(evaluation, ControlCases.Evaluation(new ToyWorldGenerator(32, seed: 12)));
    }
}
