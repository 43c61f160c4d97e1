using SdTune.Adapters.Formats;
using SdTune.Adapters.Hypernetworks;
using SdTune.Models.Unet;
using SdTune.Options;
using SdTune.Prompts;
using TorchSharp;

namespace SdTune.Pipelines;

/// <summary>
/// The hypernetworks of one generation, loaded, set to their strengths and attached to the UNet in order; disposing
/// detaches and frees them. A file none of whose context widths occurs in the UNet is skipped with a warning.
/// </summary>
internal sealed class AppliedHypernetworks : IDisposable
{
    private readonly List<Hypernetwork> networks = [];
    private HypernetworkChain? chain;

    /// <summary>Each hypernetwork applied, in order: its position in the wanted list, its name (file stem) and strength.</summary>
    public List<(int Index, string Name, double Strength)> Applied { get; } = [];

    /// <summary>Loads and attaches <paramref name="wanted"/> (name or path, strength) to <paramref name="unet"/>.</summary>
    /// <exception cref="FileNotFoundException">A hypernetwork cannot be found.</exception>
    /// <exception cref="PromptSyntaxException">A strength does not fit in float32.</exception>
    public static AppliedHypernetworks Attach(UNet2DConditionModel unet, HypernetworkLibrary library, IEnumerable<(string Name, double Strength)> wanted, ICollection<string> warnings)
    {
        var applied = new AppliedHypernetworks();
        try
        {
            var widths = unet.AttentionContextWidths;
            var device = unet.parameters().First().device;
            var index = -1;
            foreach (var (name, strength) in wanted)
            {
                index++;
                if (NumericRange.AnyFloat32.Problem(strength) is { } problem)
                {
                    throw new PromptSyntaxException($"<hypernet:{name}>: strength {problem}");
                }

                var path = library.Resolve(name);
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
