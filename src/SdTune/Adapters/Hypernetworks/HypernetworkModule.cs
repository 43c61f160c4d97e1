using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Adapters.Hypernetworks;

/// <summary>
/// One residual MLP of an A1111 hypernetwork, for the keys or the values of one context width:
/// <c>y = x + linear(x) · multiplier</c> (the multiplier, the strength, applies in evaluation mode only; training uses 1).
/// <c>linear</c> is a Sequential with, for each step i of the layer structure, <c>Linear(dim·s[i], dim·s[i+1])</c>, then
/// the activation (unless <c>linear</c>, or this is the last Linear and the output is not activated), then a LayerNorm
/// (when enabled), then Dropout (when its probability is above 0). Every slot counts in the state-dict names, so
/// <c>1, 2, 1</c> gives <c>linear.0.*</c> and <c>linear.1.*</c> with no activation and <c>linear.0.*</c> and
/// <c>linear.2.*</c> with relu. The MLP runs in its own weights' type; its output has the input's type.
/// </summary>
public sealed class HypernetworkModule : nn.Module<Tensor, Tensor>
{
    // Field order is state-dict order; the name is A1111's.
    private readonly Sequential linear;

    /// <summary>Creates a module with freshly initialised weights.</summary>
    /// <param name="dim">The context width it transforms.</param>
    /// <param name="settings">Layer structure, activation, initialisation, LayerNorm, dropout.</param>
    /// <param name="device">Where the weights live; null for the CPU.</param>
    /// <exception cref="ArgumentException">The settings are invalid (the message says which).</exception>
    public HypernetworkModule(long dim, HypernetworkSettings settings, Device? device = null)
        : base(nameof(HypernetworkModule))
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(dim, 1);
        settings.Validate();
        Dim = dim;
        Settings = settings;
        var s = settings.LayerStructure;
        var slots = new List<nn.Module<Tensor, Tensor>>();
        var linears = new List<Linear>();
        var norms = new List<LayerNorm>();
        for (var i = 0; i < s.Count - 1; i++)
        {
            var layer = nn.Linear(Width(dim, s[i]), Width(dim, s[i + 1]), hasBias: true, device: device);
            slots.Add(layer);
            linears.Add(layer);
            var last = i == s.Count - 2;
            if (!(last && !settings.ActivateOutput) && HypernetworkActivations.Create(settings.Activation) is { } activation)
            {
                slots.Add(activation);
            }

            if (settings.LayerNorm)
            {
                var norm = nn.LayerNorm(Width(dim, s[i + 1]), device: device);
                slots.Add(norm);
                norms.Add(norm);
            }

            if (settings.DropoutStructure is { } dropout && dropout[i + 1] > 0)
            {
                slots.Add(nn.Dropout(dropout[i + 1]));
            }
        }

        linear = nn.Sequential(slots);
        RegisterComponents();
        Initialise(linears, norms, settings);
    }

    /// <summary>The context width this module transforms.</summary>
    public long Dim { get; }

    /// <summary>The settings it was made with.</summary>
    public HypernetworkSettings Settings { get; }

    /// <summary>The strength in evaluation mode (A1111's multiplier); 1 by default.</summary>
    public double Multiplier { get; set; } = 1.0;

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        var weightType = linear.parameters().First().dtype;
        var change = linear.forward(input.to(weightType)).to(input.dtype);
        var output = training ? input + change : input + (change * Multiplier);
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>A layer's width: <c>int(dim · factor)</c>, as A1111 truncates it.</summary>
    internal static long Width(long dim, double factor)
    {
        var width = (long)(dim * factor);
        return width >= 1 ? width : throw new ArgumentException($"layer structure factor {factor} gives a layer of width {width} for context width {dim}.");
    }

    private static void Initialise(List<Linear> linears, List<LayerNorm> norms, HypernetworkSettings settings)
    {
        using var noGrad = no_grad();
        var nonlinearity = settings.Activation == "leakyrelu" ? nn.init.NonlinearityType.LeakyReLU : nn.init.NonlinearityType.ReLU;
        foreach (var layer in linears)
        {
            var (w, b) = (layer.weight!, layer.bias!);
            switch (settings.WeightInit)
            {
                case HypernetworkWeightInit.Normal:
                    w.normal_(0.0, 0.01);
                    break;
                case HypernetworkWeightInit.XavierUniform:
                    nn.init.xavier_uniform_(w);
                    break;
                case HypernetworkWeightInit.XavierNormal:
                    nn.init.xavier_normal_(w);
                    break;
                case HypernetworkWeightInit.KaimingUniform:
                    nn.init.kaiming_uniform_(w, nonlinearity: nonlinearity);
                    break;
                case HypernetworkWeightInit.KaimingNormal:
                    nn.init.kaiming_normal_(w, nonlinearity: nonlinearity);
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(settings), settings.WeightInit, "unknown weight initialization.");
            }

            b.zero_();
        }

        // LayerNorms are always initialised as "Normal".
        foreach (var norm in norms)
        {
            norm.weight!.normal_(0.0, 0.01);
            norm.bias!.zero_();
        }
    }
}
