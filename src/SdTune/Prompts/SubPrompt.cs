namespace SdTune.Prompts;

/// <summary>One part of a composable prompt (<c>a AND b:0.5</c>).</summary>
/// <param name="Text">The part's text, without its weight suffix and trailing whitespace.</param>
/// <param name="Weight">The part's guidance weight (1.0 when not written).</param>
public readonly record struct SubPrompt(string Text, double Weight);
