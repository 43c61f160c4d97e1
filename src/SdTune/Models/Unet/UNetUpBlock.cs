using static TorchSharp.torch;

namespace SdTune.Models.Unet;

/// <summary>One resolution level of the UNet's expanding path.</summary>
internal abstract class UNetUpBlock : nn.Module
{
    protected UNetUpBlock(string name)
        : base(name)
    {
    }

    /// <summary>How many skip connections the block consumes (one per resnet).</summary>
    public abstract int SkipCount { get; }

    /// <summary>Runs the block.</summary>
    /// <param name="hidden">(B, C, H, W).</param>
    /// <param name="skips">The skip connections for this block, in the order the down path produced them; the last one is consumed first.</param>
    /// <param name="timeEmbedding">(B, T).</param>
    /// <param name="context">Text context; unused by blocks without cross-attention.</param>
    /// <param name="upsampleSize">Target (H, W) of the upsampler; null doubles the size.</param>
    public abstract Tensor forward(Tensor hidden, IReadOnlyList<Tensor> skips, Tensor timeEmbedding, Tensor? context, long[]? upsampleSize);
}
