using static TorchSharp.torch;

namespace SdTune.Adapters.Hypernetworks;

/// <summary>
/// An A1111 hypernetwork: for each context width it covers, a pair of <see cref="HypernetworkModule"/>s that transform
/// the attention context before the key and the value projections. A context whose last dimension has no pair passes
/// unchanged. Its state-dict names are <c>{width}_k.linear.*</c> and <c>{width}_v.linear.*</c>.
/// </summary>
public sealed class Hypernetwork : nn.Module
{
    /// <summary>A1111's default widths: the SD 1.x text (768) and the SD 1.x/2.x UNet channels of self-attention.</summary>
    public static readonly IReadOnlyList<long> DefaultWidths = [768, 320, 640, 1280];

    private readonly Dictionary<long, (HypernetworkModule Key, HypernetworkModule Value)> layers = [];

    /// <summary>Creates a hypernetwork with fresh weights for <paramref name="widths"/> (in that order).</summary>
    /// <param name="widths">The context widths to cover, each once.</param>
    /// <param name="settings">The modules' shape.</param>
    /// <param name="device">Where the weights live; null for the CPU.</param>
    /// <exception cref="ArgumentException">A width repeats or the settings are invalid.</exception>
    public Hypernetwork(IEnumerable<long> widths, HypernetworkSettings settings, Device? device = null)
        : base(nameof(Hypernetwork))
    {
        ArgumentNullException.ThrowIfNull(widths);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        Settings = settings;
        var order = new List<long>();
        foreach (var width in widths)
        {
            if (layers.ContainsKey(width))
            {
                throw new ArgumentException($"hypernetwork width {width} is listed twice.", nameof(widths));
            }

            var pair = (new HypernetworkModule(width, settings, device), new HypernetworkModule(width, settings, device));
            layers[width] = pair;
            order.Add(width);
            register_module($"{width}_k", pair.Item1);
            register_module($"{width}_v", pair.Item2);
        }

        Widths = order;
    }

    /// <summary>The module shape every pair shares.</summary>
    public HypernetworkSettings Settings { get; }

    /// <summary>The context widths covered, in file order.</summary>
    public IReadOnlyList<long> Widths { get; }

    /// <summary>The strength in evaluation mode (A1111's multiplier), set on every module.</summary>
    public double Multiplier
    {
        get => layers.Count == 0 ? 1.0 : layers.Values.First().Key.Multiplier;
        set
        {
            foreach (var (k, v) in layers.Values)
            {
                k.Multiplier = value;
                v.Multiplier = value;
            }
        }
    }

    /// <summary>The key and value modules for <paramref name="width"/>.</summary>
    /// <exception cref="KeyNotFoundException">The width is not covered.</exception>
    public (HypernetworkModule Key, HypernetworkModule Value) this[long width] => layers[width];

    /// <summary>Whether contexts of <paramref name="width"/> are transformed.</summary>
    public bool Covers(long width) => layers.ContainsKey(width);

    /// <summary>
    /// A1111's <c>apply_single_hypernetwork</c>: when the pair for the key input's width exists, the key input goes
    /// through its key module and the value input through its value module; otherwise both pass unchanged.
    /// </summary>
    public (Tensor Key, Tensor Value) Apply(Tensor key, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        return layers.TryGetValue(key.shape[^1], out var pair) ? (pair.Key.forward(key), pair.Value.forward(value)) : (key, value);
    }
}
