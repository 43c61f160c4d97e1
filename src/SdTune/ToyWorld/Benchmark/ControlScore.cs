namespace SdTune.ToyWorld.Benchmark;

/// <summary>One row of the control benchmark for one seed: how the pictures followed the condition and the prompt, and the training's costs.</summary>
/// <param name="Row">The row's name (<see cref="ControlBenchmark.NoControlRow"/> or the training method's).</param>
/// <param name="Description">What it is.</param>
/// <param name="Position">Share of pictures with the shape in the held-out position the condition (and prompt) gives.</param>
/// <param name="Shape">Share of pictures showing the held-out shape.</param>
/// <param name="Color">Share of pictures with the shape in the prompted colour.</param>
/// <param name="Background">Share of pictures with the prompted background.</param>
/// <param name="TrainSeconds">Training wall time (0 without training).</param>
/// <param name="PeakMemoryBytes">Peak resident memory during training; -1 where unknown or not trained.</param>
/// <param name="OutputBytes">Size of the trained control's files; 0 without training.</param>
public sealed record ControlScore(
    string Row,
    string Description,
    double Position,
    double Shape,
    double Color,
    double Background,
    double TrainSeconds,
    long PeakMemoryBytes,
    long OutputBytes);
