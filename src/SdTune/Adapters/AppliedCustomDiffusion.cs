using SdTune.Adapters.Formats;
using SdTune.Models.Unet;
using static TorchSharp.torch;

namespace SdTune.Adapters;

/// <summary>
/// Custom Diffusion weights applied to a UNet for generation, as deltas on the base: each stored projection adds
/// <c>stored − base</c> to the layer, so one file gives exactly its trained weights and several files stack their
/// changes (the first file's weights are set exactly). Disposing puts the base weights back bit for bit. A tensor whose layer the UNet lacks, or whose shape
/// differs, is skipped with a warning naming the file.
/// </summary>
public sealed class AppliedCustomDiffusion : IDisposable
{
    private readonly List<(Tensor Live, Tensor Original)> changed = [];

    private AppliedCustomDiffusion()
    {
    }

    /// <summary>How many tensors were applied.</summary>
    public int Applied => changed.Count;

    /// <summary>Applies every file of <paramref name="paths"/> (weights files or their folders), in order.</summary>
    /// <exception cref="FileNotFoundException">A path holds no Custom Diffusion weights.</exception>
    public static AppliedCustomDiffusion Apply(UNet2DConditionModel unet, IEnumerable<string> paths, Action<string> warn)
    {
        ArgumentNullException.ThrowIfNull(unet);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentNullException.ThrowIfNull(warn);
        var applied = new AppliedCustomDiffusion();
        try
        {
            var parameters = unet.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter, StringComparer.Ordinal);
            var originals = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var path in paths)
            {
                var skipped = new List<string>();
                foreach (var ((attention, projection, tensor), value) in CustomDiffusionFormat.Read(path))
                {
                    using var stored = value;
                    var name = $"{attention}.{projection}.{tensor}";
                    if (!parameters.TryGetValue(name, out var live) || !live.shape.SequenceEqual(stored.shape))
                    {
                        skipped.Add(name);
                        continue;
                    }

                    using var noGrad = no_grad();
                    if (!originals.TryGetValue(name, out var original))
                    {
                        // The first file sets the weights exactly; later ones add their change on top.
                        originals[name] = live.detach().clone().DetachFromDisposeScope();
                        applied.changed.Add((live, originals[name]));
                        live.copy_(stored.to(live.dtype));
                        continue;
                    }

                    using var delta = stored - original.to(ScalarType.Float32);
                    live.copy_((live.to(ScalarType.Float32) + delta).to(live.dtype));
                }

                if (skipped.Count > 0)
                {
                    warn($"{path}: {skipped.Count} Custom Diffusion tensor(s) fit no layer of this UNet and were ignored: {string.Join(", ", skipped.Take(3))}{(skipped.Count > 3 ? ", ..." : "")}");
                }
            }

            return applied;
        }
        catch
        {
            applied.Dispose();
            throw;
        }
    }

    /// <summary>Puts the base weights back.</summary>
    public void Dispose()
    {
        using var noGrad = no_grad();
        foreach (var (live, original) in changed)
        {
            live.copy_(original);
            original.Dispose();
        }

        changed.Clear();
    }
}
