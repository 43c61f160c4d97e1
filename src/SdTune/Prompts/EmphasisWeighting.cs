using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Prompts;

/// <summary>
/// Applies per-token attention multipliers (<see cref="PromptChunk.Multipliers"/>) to text-encoder output, as the
/// web UI's emphasis modes do.
/// </summary>
public static class EmphasisWeighting
{
    /// <summary>
    /// The "Original" mode: each token's vector is multiplied by its multiplier, then the whole chunk is rescaled so that
    /// its mean (over batch, tokens and channels) is what it was before. The mean is taken per chunk of
    /// <paramref name="chunkTokens"/> tokens, because each chunk is encoded and weighted separately.
    /// </summary>
    /// <param name="z">Encoder output <c>[batch, tokens, channels]</c> or <c>[tokens, channels]</c>; tokens a multiple of <paramref name="chunkTokens"/>.</param>
    /// <param name="multipliers">One multiplier per token: <c>[batch, tokens]</c> or <c>[tokens]</c>.</param>
    /// <param name="chunkTokens">Tokens per chunk (77 for CLIP).</param>
    /// <returns>A new tensor of <paramref name="z"/>'s shape, dtype and device.</returns>
    public static Tensor ApplyOriginal(Tensor z, Tensor multipliers, int chunkTokens = PromptChunker.ChunkTokens)
    {
        ArgumentNullException.ThrowIfNull(z);
        ArgumentNullException.ThrowIfNull(multipliers);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkTokens, 1);
        long tokens = CheckShapes(z, multipliers);
        if (tokens % chunkTokens != 0)
        {
            throw new ArgumentException(
                $"Encoder output has {tokens} tokens, which is not a multiple of the chunk length {chunkTokens}.", nameof(z));
        }

        using var scope = NewDisposeScope();
        var weights = Broadcastable(z, multipliers);
        var pieces = new List<Tensor>();
        for (long start = 0; start < tokens; start += chunkTokens)
        {
            var chunk = z.narrow(-2, start, chunkTokens);
            var chunkWeights = weights.narrow(-2, start, chunkTokens);
            var originalMean = chunk.mean();
            var weighted = chunk * chunkWeights;
            pieces.Add(weighted * (originalMean / weighted.mean()));
        }

        var result = pieces.Count == 1 ? pieces[0] : cat(pieces, -2);
        return result.MoveToOuterDisposeScope();
    }

    /// <summary>The "No norm" mode: each token's vector is multiplied by its multiplier, nothing more (suggested for SDXL).</summary>
    /// <param name="z">Encoder output <c>[batch, tokens, channels]</c> or <c>[tokens, channels]</c>.</param>
    /// <param name="multipliers">One multiplier per token: <c>[batch, tokens]</c> or <c>[tokens]</c>.</param>
    /// <returns>A new tensor of <paramref name="z"/>'s shape, dtype and device.</returns>
    public static Tensor ApplyNoNorm(Tensor z, Tensor multipliers)
    {
        ArgumentNullException.ThrowIfNull(z);
        ArgumentNullException.ThrowIfNull(multipliers);
        CheckShapes(z, multipliers);
        using var scope = NewDisposeScope();
        return (z * Broadcastable(z, multipliers)).MoveToOuterDisposeScope();
    }

    /// <summary>Multipliers as a <c>[..., tokens, 1]</c> tensor of z's dtype and device.</summary>
    private static Tensor Broadcastable(Tensor z, Tensor multipliers) =>
        multipliers.to(z.dtype, z.device).unsqueeze(-1);

    private static long CheckShapes(Tensor z, Tensor multipliers)
    {
        if (z.dim() is not (2 or 3))
        {
            throw new ArgumentException($"Encoder output must be [batch, tokens, channels] or [tokens, channels]; got [{string.Join(", ", z.shape)}].", nameof(z));
        }

        long tokens = z.shape[^2];
        bool matches = multipliers.dim() switch
        {
            1 => multipliers.shape[0] == tokens,
            2 => z.dim() == 3 && multipliers.shape[1] == tokens && (multipliers.shape[0] == z.shape[0] || multipliers.shape[0] == 1),
            _ => false,
        };
        if (!matches)
        {
            throw new ArgumentException(
                $"Multipliers [{string.Join(", ", multipliers.shape)}] do not match encoder output [{string.Join(", ", z.shape)}]: need one per token.",
                nameof(multipliers));
        }

        return tokens;
    }
}
