namespace SdTune.ToyWorld.Benchmark;

/// <summary>One row of the concept benchmark: a method's scores and costs (the base model's row has no training).</summary>
/// <param name="Method">The method's name, or <c>base model</c>.</param>
/// <param name="Description">What it is.</param>
/// <param name="SubjectFidelity">Share of identifier-prompt pictures showing the subject (shape, colours, pattern).</param>
/// <param name="SubjectShapeAndColors">Share of those showing the subject's shape in its colours (any fill layout).</param>
/// <param name="SubjectPattern">Share of those with the subject's pattern (any colours or shape).</param>
/// <param name="PromptFidelity">How well those pictures follow the prompted background, size and position.</param>
/// <param name="PriorPreservation">Share of class-prompt pictures with none of the subject's colours or pattern (1 is perfect).</param>
/// <param name="ClassFidelity">Share of class-prompt pictures showing the class as prompted (shape, solid, colour, background).</param>
/// <param name="ClassColorEntropy">Entropy in bits of the class-prompt pictures' shape colours (variety kept).</param>
/// <param name="TrainSeconds">Training wall time (0 for the base model).</param>
/// <param name="PeakMemoryBytes">Peak resident memory during training; -1 where unknown or not trained.</param>
/// <param name="OutputBytes">Size of the output file(s); 0 for the base model.</param>
/// <param name="Grid">The image grid written for this row.</param>
public sealed record MethodScore(
    string Method,
    string Description,
    double SubjectFidelity,
    double SubjectShapeAndColors,
    double SubjectPattern,
    ToyPromptFidelity PromptFidelity,
    double PriorPreservation,
    double ClassFidelity,
    double ClassColorEntropy,
    double TrainSeconds,
    long PeakMemoryBytes,
    long OutputBytes,
    string Grid)
{
    /// <summary>The optimizer steps the row trained (its own <c>max_train_steps</c>, else the benchmark's); 0 for the base model.</summary>
    public int Steps { get; init; }
}
