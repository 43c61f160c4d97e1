namespace SdTune.Prompts;

/// <summary>A run of prompt text and the attention weight its tokens get; see <see cref="EmphasisParser"/>.</summary>
/// <param name="Text">The text, with emphasis brackets and escapes removed.</param>
/// <param name="Weight">The multiplier for the text encoder's output at this text's tokens (1.0 = unchanged).</param>
public readonly record struct WeightedText(string Text, double Weight)
{
    /// <summary>The marker <see cref="EmphasisParser"/> emits for the <c>BREAK</c> keyword: text "BREAK" with weight -1.</summary>
    public static WeightedText Break { get; } = new("BREAK", -1.0);

    /// <summary>Whether this is the <c>BREAK</c> marker (a BREAK inside brackets has its weight scaled and is plain text).</summary>
    public bool IsBreak => Weight == -1.0 && Text == "BREAK";
}
