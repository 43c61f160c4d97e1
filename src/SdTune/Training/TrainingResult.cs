namespace SdTune.Training;

/// <summary>What a finished run produced.</summary>
/// <param name="Steps">Optimizer steps done in total (resumed ones included).</param>
/// <param name="Outputs">Every output path written, in order (intermediate saves, then the final one).</param>
/// <param name="StateFolders">Every state folder written.</param>
/// <param name="LossHistory">The loss of every optimizer step of this session.</param>
/// <param name="Warnings">Warnings collected on the way.</param>
public sealed record TrainingResult(long Steps, IReadOnlyList<string> Outputs, IReadOnlyList<string> StateFolders, IReadOnlyList<double> LossHistory, IReadOnlyList<string> Warnings);
