using static TorchSharp.torch;

namespace SdTune.Conditioning;

/// <summary>The text conditioning of one or more texts: the context sequences and, for SDXL, the pooled embeddings.</summary>
/// <param name="Context">[B, 77·chunks, context width].</param>
/// <param name="Pooled">SDXL: [B, 1280] pooled text embeddings (of the first chunk for prompts); null otherwise.</param>
public sealed record TextConditioning(Tensor Context, Tensor? Pooled) : IDisposable
{
    /// <summary>Number of 77-token chunks in <see cref="Context"/>.</summary>
    public int ChunkCount => (int)(Context.shape[1] / 77);

    /// <summary>
    /// Stacks conditionings along the batch, each repeated <paramref name="repeat"/> times (every part has batch 1 when
    /// repeated): the conditioning of a batch of images.
    /// </summary>
    /// <param name="parts">The parts, all with the same context length and width.</param>
    /// <param name="repeat">How many rows each part becomes.</param>
    public static TextConditioning Batch(IReadOnlyList<TextConditioning> parts, long repeat = 1)
    {
        ArgumentNullException.ThrowIfNull(parts);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeat, 1);
        var context = cat(parts.Select(p => p.Context.expand(repeat * p.Context.shape[0], -1, -1)).ToList(), 0);
        var pooled = parts[0].Pooled is null ? null : cat(parts.Select(p => p.Pooled!.expand(repeat * p.Pooled.shape[0], -1)).ToList(), 0);
        return new TextConditioning(context, pooled);
    }

    /// <summary>The tensors, context first (for caches that store tensor arrays).</summary>
    public Tensor[] ToTensors() => Pooled is null ? [Context] : [Context, Pooled];

    /// <summary>The inverse of <see cref="ToTensors"/>.</summary>
    /// <param name="tensors">The context, then the pooled embedding if any.</param>
    public static TextConditioning FromTensors(IReadOnlyList<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        return new TextConditioning(tensors[0], tensors.Count > 1 ? tensors[1] : null);
    }

    /// <summary>Moves the tensors out of the current dispose scope (see <c>Tensor.MoveToOuterDisposeScope</c>).</summary>
    public TextConditioning MoveToOuterDisposeScope()
    {
        Context.MoveToOuterDisposeScope();
        Pooled?.MoveToOuterDisposeScope();
        return this;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Context.Dispose();
        Pooled?.Dispose();
    }
}
