namespace SdTune.Training.Data;

/// <summary>Where training is when a caption is processed.</summary>
/// <param name="Epoch">The epoch, counted from 1 (sd-scripts drops every n-th epoch's captions when <c>epoch % n == 0</c>).</param>
/// <param name="Step">The global optimisation step, from 0 (for token warm-up).</param>
/// <param name="MaxTrainSteps">The run's total steps (for a fractional <c>token_warmup_step</c>).</param>
public readonly record struct CaptionContext(int Epoch, int Step = 0, int MaxTrainSteps = 0);
