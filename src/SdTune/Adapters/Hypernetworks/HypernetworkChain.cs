using SdTune.Models.Unet;
using static TorchSharp.torch;

namespace SdTune.Adapters.Hypernetworks;

/// <summary>
/// Attaches hypernetworks to a UNet through <see cref="UNet2DConditionModel.CrossAttentionContext"/>: every attention
/// layer's context goes through each hypernetwork in turn (A1111's <c>apply_hypernetworks</c>), after any transform that
/// was attached before. Disposing the attachment restores the transform that was there.
/// </summary>
public sealed class HypernetworkChain : IDisposable
{
    private readonly UNet2DConditionModel unet;
    private readonly Func<Tensor, (Tensor Key, Tensor Value)>? previous;
    private readonly Func<Tensor, (Tensor Key, Tensor Value)> transform;
    private bool disposed;

    private HypernetworkChain(UNet2DConditionModel unet, IReadOnlyList<Hypernetwork> networks)
    {
        this.unet = unet;
        previous = unet.CrossAttentionContext;
        Networks = networks;
        var before = previous;
        transform = context =>
        {
            var (key, value) = before is null ? (context, context) : before(context);
            foreach (var network in networks)
            {
                (key, value) = network.Apply(key, value);
            }

            return (key, value);
        };
        unet.CrossAttentionContext = transform;
    }

    /// <summary>The hypernetworks applied, in order.</summary>
    public IReadOnlyList<Hypernetwork> Networks { get; }

    /// <summary>Applies <paramref name="networks"/> (in order) to every attention context of <paramref name="unet"/>.</summary>
    public static HypernetworkChain Attach(UNet2DConditionModel unet, IReadOnlyList<Hypernetwork> networks)
    {
        ArgumentNullException.ThrowIfNull(unet);
        ArgumentNullException.ThrowIfNull(networks);
        return new HypernetworkChain(unet, [.. networks]);
    }

    /// <summary>Restores the transform that was attached before (the hypernetworks themselves are not disposed).</summary>
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        if (ReferenceEquals(unet.CrossAttentionContext, transform))
        {
            unet.CrossAttentionContext = previous;
        }
    }
}
