using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Models.Layers;

/// <summary>
/// Residual block: GroupNorm, SiLU, 3x3 conv, optional timestep-embedding shift, GroupNorm, SiLU,
/// dropout, 3x3 conv, plus a 1x1 conv shortcut when the channel count changes (diffusers' "default"
/// time scale-shift mode).
/// </summary>
internal sealed class ResnetBlock2D : nn.Module<Tensor, Tensor?, Tensor>
{
    // Field order is state-dict order.
    private readonly GroupNorm norm1;
    private readonly Conv2d conv1;
    private readonly Linear? time_emb_proj;
    private readonly GroupNorm norm2;
    private readonly Dropout dropout;
    private readonly Conv2d conv2;
    private readonly Conv2d? conv_shortcut;
    private readonly double outputScaleFactor;

    /// <param name="inChannels">Input channels.</param>
    /// <param name="outChannels">Output channels.</param>
    /// <param name="timeEmbeddingChannels">Width of the timestep embedding; null for blocks without one (VAE).</param>
    /// <param name="groups">GroupNorm groups.</param>
    /// <param name="eps">GroupNorm epsilon.</param>
    /// <param name="dropout">Dropout probability between the convolutions.</param>
    /// <param name="outputScaleFactor">The sum of shortcut and residual is divided by this.</param>
    public ResnetBlock2D(long inChannels, long outChannels, long? timeEmbeddingChannels, long groups, double eps, double dropout = 0.0, double outputScaleFactor = 1.0)
        : base(nameof(ResnetBlock2D))
    {
        norm1 = GroupNorms.Create(groups, inChannels, eps);
        conv1 = nn.Conv2d(inChannels, outChannels, 3, stride: 1, padding: 1);
        if (timeEmbeddingChannels is { } t)
        {
            time_emb_proj = nn.Linear(t, outChannels);
        }

        norm2 = GroupNorms.Create(groups, outChannels, eps);
        this.dropout = nn.Dropout(dropout);
        conv2 = nn.Conv2d(outChannels, outChannels, 3, stride: 1, padding: 1);
        if (inChannels != outChannels)
        {
            conv_shortcut = nn.Conv2d(inChannels, outChannels, 1);
        }

        this.outputScaleFactor = outputScaleFactor;
        RegisterComponents();
    }

    /// <summary>Whether to recompute this block's activations in backward instead of keeping them (training only).</summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>Applies the block; <paramref name="timeEmbedding"/> is (B, timeEmbeddingChannels) or null.</summary>
    public override Tensor forward(Tensor input, Tensor? timeEmbedding) =>
        GradientCheckpointing && GradientCheckpoint.IsActive(this)
            ? GradientCheckpoint.Apply(x => Compute(x[0]!, x[1]), input, timeEmbedding)
            : Compute(input, timeEmbedding);

    private Tensor Compute(Tensor input, Tensor? timeEmbedding)
    {
        using var scope = NewDisposeScope();
        var h = conv1.call(nn.functional.silu(norm1.forward(input)));
        if (time_emb_proj is not null && timeEmbedding is not null)
        {
            var t = time_emb_proj.call(nn.functional.silu(timeEmbedding));
            h = h + t.unsqueeze(-1).unsqueeze(-1);
        }

        h = norm2.forward(h);
        h = nn.functional.silu(h);
        h = dropout.forward(h);
        h = conv2.call(h);
        var shortcut = conv_shortcut is null ? input : conv_shortcut.call(input);
        var output = shortcut + h;
        if (outputScaleFactor != 1.0)
        {
            output = output / outputScaleFactor;
        }

        return output.MoveToOuterDisposeScope();
    }
}
