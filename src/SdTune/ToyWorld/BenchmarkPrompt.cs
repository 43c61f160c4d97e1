namespace SdTune.ToyWorld;

/// <summary>A prompt of the fine-tuning benchmark and the placement its pictures should show.</summary>
/// <param name="Text">The prompt text.</param>
/// <param name="Placement">The background, size and position the prompt asks for.</param>
public sealed record BenchmarkPrompt(string Text, ToyPlacement Placement)
{
    /// <summary>For a class prompt, the shape colour it asks for; null for prompts with the identifier.</summary>
    public ToyColor? ClassColor { get; init; }
}
