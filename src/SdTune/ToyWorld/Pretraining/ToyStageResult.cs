namespace SdTune.ToyWorld.Pretraining;

/// <summary>What one pretraining stage did.</summary>
/// <param name="Name">"vae" or "unet+text".</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="Seconds">Wall-clock time of the training loop.</param>
/// <param name="FirstLoss">Mean loss of the first steps (up to 20).</param>
/// <param name="LastLoss">Mean loss of the last steps (up to 100).</param>
public sealed record ToyStageResult(string Name, int Steps, double Seconds, double FirstLoss, double LastLoss);
