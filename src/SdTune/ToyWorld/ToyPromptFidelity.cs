namespace SdTune.ToyWorld;

/// <summary>How often pictures showed what their prompts asked for, per attribute and all together.</summary>
/// <param name="Background">The fraction with the prompted background.</param>
/// <param name="Size">The fraction with the prompted size.</param>
/// <param name="Position">The fraction with the prompted position.</param>
/// <param name="All">The fraction with all three.</param>
/// <param name="Count">The number of pictures.</param>
public sealed record ToyPromptFidelity(double Background, double Size, double Position, double All, int Count);
