namespace SdTune.ToyWorld;

/// <summary>
/// Which fill patterns each shape shows in pretraining. Every shape keeps three of the four patterns (stripes, dots,
/// checks, halves) and loses one, in a fixed Latin-square order, so every pattern is held out on two shapes and seen
/// on six: a shape × pattern pair never shown measures whether the base model composes a pattern onto a shape (as SD
/// draws "a striped teapot" without having seen one). Stars never show stripes, so the concept benchmark's default
/// subject, a red and yellow striped star, stays a picture the base model never saw — one whose parts it can draw.
/// </summary>
public static class ToyPatternSplit
{
    private static readonly ToyPattern[] Patterns = [ToyPattern.Striped, ToyPattern.Dotted, ToyPattern.Checkered, ToyPattern.Halves];

    /// <summary>The one pattern <paramref name="shape"/> never shows in pretraining.</summary>
    /// <param name="shape">The shape.</param>
    public static ToyPattern HeldOut(ToyShape shape) => Patterns[((int)shape + 1) % Patterns.Length];

    /// <summary>The patterns <paramref name="shape"/> shows in pretraining (every pattern but <see cref="HeldOut"/>), in enum order.</summary>
    /// <param name="shape">The shape.</param>
    public static IReadOnlyList<ToyPattern> Training(ToyShape shape) => Patterns.Where(p => p != HeldOut(shape)).ToArray();
}
