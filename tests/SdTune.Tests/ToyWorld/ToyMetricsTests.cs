using SdTune.ToyWorld;

namespace SdTune.Tests.ToyWorld;

public class ToyMetricsTests
{
    private static readonly ToySubject Subject = new("striped star", ToyShape.Star, ToyColor.Red, ToyPattern.Striped, ToyColor.Yellow);

    private static ToyReading Reading(ToyShape shape, ToyColor color, ToyPattern pattern = ToyPattern.Solid, ToyColor? second = null, ToyColor background = ToyColor.Blue, ToySize size = ToySize.Large, ToyPosition position = ToyPosition.Center) =>
        new() { Shape = shape, Color = color, Pattern = pattern, SecondColor = second, Background = background, Size = size, Position = position };

    [Fact]
    public void Subject_fidelity_needs_shape_colours_and_pattern()
    {
        var readings = new[]
        {
            Reading(ToyShape.Star, ToyColor.Red, ToyPattern.Striped, ToyColor.Yellow), // the subject
            Reading(ToyShape.Star, ToyColor.Red, ToyPattern.Striped, ToyColor.Yellow, ToyColor.White), // the subject elsewhere
            Reading(ToyShape.Star, ToyColor.Red), // solid: not the subject
            Reading(ToyShape.Circle, ToyColor.Red, ToyPattern.Striped, ToyColor.Yellow), // wrong shape
            Reading(ToyShape.Star, ToyColor.Red, ToyPattern.Dotted, ToyColor.Yellow), // wrong pattern
            Reading(ToyShape.Star, ToyColor.Red, ToyPattern.Striped, ToyColor.Green), // wrong second colour
            new ToyReading { Background = ToyColor.Blue }, // nothing found
            Reading(ToyShape.Star, ToyColor.Yellow, ToyPattern.Striped, ToyColor.Red), // colours swapped
        };
        Assert.Equal(2.0 / 8, ToyMetrics.SubjectFidelity(readings, Subject), 12);
        Assert.Throws<ArgumentException>(() => ToyMetrics.SubjectFidelity([], Subject));
    }

    [Fact]
    public void Prompt_fidelity_counts_each_attribute_and_all_together()
    {
        var prompted = new[]
        {
            new ToyPlacement(ToyColor.Blue, ToySize.Large, ToyPosition.Center),
            new ToyPlacement(ToyColor.White, ToySize.Medium, ToyPosition.TopLeft),
            new ToyPlacement(ToyColor.Green, ToySize.Small, ToyPosition.Bottom),
            new ToyPlacement(ToyColor.Black, ToySize.Large, ToyPosition.Right),
        };
        var readings = new[]
        {
            Reading(ToyShape.Star, ToyColor.Red), // blue, large, center: all right
            Reading(ToyShape.Star, ToyColor.Red, background: ToyColor.White, size: ToySize.Large, position: ToyPosition.TopLeft), // size wrong
            Reading(ToyShape.Star, ToyColor.Red, background: ToyColor.Blue, size: ToySize.Small, position: ToyPosition.Top), // background and position wrong
            new ToyReading { Background = ToyColor.Black }, // no shape: size and position unknown
        };
        var f = ToyMetrics.PromptFidelity(readings, prompted);
        Assert.Equal(4, f.Count);
        Assert.Equal(3.0 / 4, f.Background, 12);
        Assert.Equal(2.0 / 4, f.Size, 12);
        Assert.Equal(2.0 / 4, f.Position, 12);
        Assert.Equal(1.0 / 4, f.All, 12);
        Assert.Throws<ArgumentException>(() => ToyMetrics.PromptFidelity(readings, prompted[..3]));
    }

    [Fact]
    public void Prior_preservation_counts_any_class_picture_with_the_subjects_colours_or_pattern_as_leaked()
    {
        var readings = new[]
        {
            Reading(ToyShape.Star, ToyColor.Green),
            Reading(ToyShape.Star, ToyColor.Red), // class prompts never ask for the subject's colours: a red star leaks
            Reading(ToyShape.Star, ToyColor.Red, ToyPattern.Striped, ToyColor.Yellow), // the subject itself
            Reading(ToyShape.Circle, ToyColor.Green, ToyPattern.Striped, ToyColor.Blue), // the subject's pattern on another shape
            Reading(ToyShape.Star, ToyColor.Blue, ToyPattern.Checkered, ToyColor.Yellow), // yellow bands, read as another pattern
            Reading(ToyShape.Star, ToyColor.Blue, background: ToyColor.White),
        };
        Assert.Equal(2.0 / 6, ToyMetrics.PriorPreservation(readings, Subject), 12);
        Assert.True(ToyMetrics.Leaks(readings[4], Subject));
        Assert.False(ToyMetrics.HasSubjectLook(readings[4], Subject));
    }

    [Fact]
    public void Partial_subject_matches_count_shape_and_colours_and_pattern_apart()
    {
        var readings = new[]
        {
            Reading(ToyShape.Star, ToyColor.Red, ToyPattern.Striped, ToyColor.Yellow), // exact
            Reading(ToyShape.Star, ToyColor.Yellow, ToyPattern.Checkered, ToyColor.Red), // shape and colours, other layout
            Reading(ToyShape.Star, ToyColor.Red), // one colour only
            Reading(ToyShape.Circle, ToyColor.Green, ToyPattern.Striped, ToyColor.Blue), // the pattern only
        };
        Assert.Equal(1.0 / 4, ToyMetrics.SubjectFidelity(readings, Subject), 12);
        var (shapeAndColors, pattern) = ToyMetrics.SubjectPartialFidelity(readings, Subject);
        Assert.Equal(2.0 / 4, shapeAndColors, 12);
        Assert.Equal(2.0 / 4, pattern, 12);
    }

    [Fact]
    public void Class_fidelity_needs_the_class_shape_solid_in_the_prompted_colour_and_background()
    {
        var placement = new ToyPlacement(ToyColor.Blue, ToySize.Large, ToyPosition.Center);
        var prompt = new BenchmarkPrompt("a large green star on a blue background, center", placement) { ClassColor = ToyColor.Green };
        var readings = new[]
        {
            Reading(ToyShape.Star, ToyColor.Green), // as prompted
            Reading(ToyShape.Star, ToyColor.Purple), // recoloured
            Reading(ToyShape.Heart, ToyColor.Green), // another shape
            Reading(ToyShape.Star, ToyColor.Green, ToyPattern.Checkered, ToyColor.White), // patterned
            new ToyReading { Background = ToyColor.Blue }, // empty
        };
        Assert.Equal(1.0 / 5, ToyMetrics.ClassFidelity(readings, [.. readings.Select(_ => prompt)], ToyShape.Star), 12);
        Assert.Throws<ArgumentException>(() => ToyMetrics.ClassFidelity(readings, [prompt], ToyShape.Star));
    }

    [Fact]
    public void Colour_entropy_is_zero_for_one_colour_and_three_bits_for_all_eight()
    {
        Assert.Equal(0, ToyMetrics.ColorEntropy([Reading(ToyShape.Star, ToyColor.Red), Reading(ToyShape.Circle, ToyColor.Red)]), 12);
        var uniform = Enum.GetValues<ToyColor>().Select(c => Reading(ToyShape.Star, c, background: c == ToyColor.Blue ? ToyColor.Red : ToyColor.Blue)).ToList();
        Assert.Equal(3, ToyMetrics.ColorEntropy(uniform), 12);

        // Two colours, 3:1: H = -(0.75 log2 0.75 + 0.25 log2 0.25) = 0.811278...
        var skewed = new[] { Reading(ToyShape.Star, ToyColor.Red), Reading(ToyShape.Star, ToyColor.Red), Reading(ToyShape.Star, ToyColor.Red), Reading(ToyShape.Star, ToyColor.Green) };
        Assert.Equal(0.8112781244591328, ToyMetrics.ColorEntropy(skewed), 12);
    }
}
