using static TorchSharp.torch;

namespace SdTune.Models.Unet;

/// <summary>One resolution level of the UNet's contracting path.</summary>
internal abstract class UNetDownBlock : nn.Module
{
    protected UNetDownBlock(string name)
        : base(name)
    {
    }

    /// <summary>Whether the block has spatial transformers (and so uses the text context).</summary>
    public abstract bool HasCrossAttention { get; }

    /// <summary>
    /// Runs the block. Returns the output and the skip connections it produces (one per resnet, plus the
    /// downsampled output when the block downsamples), in order.
    /// </summary>
    /// <param name="hidden">(B, C, H, W).</param>
    /// <param name="timeEmbedding">(B, T).</param>
    /// <param name="context">Text context (B, M, D); unused by blocks without cross-attention.</param>
    /// <param name="additionalResidual">T2I-Adapter feature added after the last resnet (and transformer); null for none.</param>
    public abstract (Tensor Output, Tensor[] Skips) forward(Tensor hidden, Tensor timeEmbedding, Tensor? context, Tensor? additionalResidual);

    /// <summary>Adds a T2I-Adapter feature, checking first that it has the hidden state's shape.</summary>
    protected static Tensor AddAdapterFeature(Tensor hidden, Tensor feature)
    {
        UNet2DConditionModel.EnsureFits(feature, hidden, "downIntrablockAdditionalResiduals", $"the {hidden.shape[1]}-channel down block output it is added to");
        return hidden + feature;
    }
}
