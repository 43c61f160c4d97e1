using SdTune.Adapters.Formats;
using SdTune.Adapters.Hypernetworks;
using SdTune.Models.Unet;
using SdTune.Options;
using SdTune.Prompts;
using TorchSharp;

namespace SdTune.Pipelines;

/// <summary>
/// The hypernetworks of one generation, loaded, set to their strengths and attached to the UNet in order; disposing
/// detaches and frees them. A file none of whose context widths occurs in the UNet is skipped with a warning, and so is a
/// prompt tag whose name is not found (A1111 skips it too); a request's own file must exist.
/// </summary>
internal sealed class AppliedHypernetworks : IDisposable
{
    private readonly List<Hypernetwork> networks = [];
    private HypernetworkChain? chain;

    /// <summary>Each hypernetwork applied, in order: its position in the wanted list, its name (file stem) and strength.</summary>
    public List<(int Index, string Name, double Strength)> Applied { get; } = [];

    /// <summary>Loads and attaches the request's hypernetworks, then the prompt's tags (name or path, strength), to <paramref name="unet"/>.</summary>
    /// <exception cref="FileNotFoundException">A hypernetwork of the request cannot be found.</exception>
    /// <exception cref="PromptSyntaxException">A strength does not fit in float32.</exception>
    public static AppliedHypernetworks Attach(UNet2DConditionModel unet, HypernetworkLibrary library, IReadOnlyList<(string Name, double Strength)> requested, IEnumerable<(string Name, double Strength)> tags, ICollection<string> warnings)
    {
        var applied = new AppliedHypernetworks();
        try
        {
            var widths = unet.AttentionContextWidths;
            var device = unet.parameters().First().device;
            var index = -1;
            foreach (var (name, strength) in requested.Concat(tags))
            {
                index++;
                if (NumericRange.AnyFloat32.Problem(strength) is { } problem)
                {
                    throw new PromptSyntaxException($"<hypernet:{name}>: strength {problem}");
                }

                string path;
                try
                {
                    path = library.Resolve(name);
                }
                catch (FileNotFoundException e) when (index >= requested.Count)
                {
                    warnings.Add($"<hypernet:{name}> ignored: {e.Message}");
                    continue;
                }

                var (network, _) = A1111HypernetworkFormat.Load(path);
                if (!network.Widths.Any(widths.Contains))
                {
                    warnings.Add($"{path}: hypernetwork skipped: its context widths ({string.Join(", ", network.Widths)}) occur in no attention layer of this model ({string.Join(", ", widths)}).");
                    network.Dispose();
                    continue;
                }

                network.Multiplier = strength;
                network.to(device);
                network.eval();
                applied.networks.Add(network);
                applied.Applied.Add((index, Path.GetFileNameWithoutExtension(name), strength));
            }

            if (applied.networks.Count > 0)
            {
                applied.chain = HypernetworkChain.Attach(unet, applied.networks);
            }

            return applied;
        }
        catch
        {
            applied.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        chain?.Dispose();
        chain = null;
        foreach (var network in networks)
        {
            network.Dispose();
        }

        networks.Clear();
    }
}
