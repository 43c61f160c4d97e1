namespace SdTune.Text;

/// <summary>
/// A prompt encoded for a CLIP text encoder: start-of-text, the prompt's tokens (truncated if needed),
/// end-of-text, then padding up to the model's length.
/// </summary>
public sealed class TokenizedText
{
    internal TokenizedText(int[] inputIds, int length, bool isTruncated)
    {
        InputIds = inputIds;
        Length = length;
        IsTruncated = isTruncated;
        var mask = new int[inputIds.Length];
        Array.Fill(mask, 1, 0, length);
        AttentionMask = mask;
    }

    /// <summary>The token ids, exactly the requested length (77 for every Stable Diffusion text encoder).</summary>
    public IReadOnlyList<int> InputIds { get; }

    /// <summary>1 for the start token, the prompt's tokens and the end token; 0 for padding.</summary>
    public IReadOnlyList<int> AttentionMask { get; }

    /// <summary>
    /// Number of real tokens, start and end tokens included. The end token sits at index <c>Length - 1</c>:
    /// that is where a CLIP text encoder takes its pooled output.
    /// </summary>
    public int Length { get; }

    /// <summary>True when the prompt had more tokens than fit and the excess was cut off.</summary>
    public bool IsTruncated { get; }
}
