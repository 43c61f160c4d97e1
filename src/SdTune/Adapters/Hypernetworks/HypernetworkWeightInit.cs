namespace SdTune.Adapters.Hypernetworks;

/// <summary>How a new hypernetwork's Linear layers are initialised (A1111's <c>weight_initialization</c>); biases start at 0.</summary>
public enum HypernetworkWeightInit
{
    /// <summary>Weights from N(0, 0.01) (A1111's default).</summary>
    Normal,

    /// <summary>Xavier (Glorot) uniform.</summary>
    XavierUniform,

    /// <summary>Xavier (Glorot) normal.</summary>
    XavierNormal,

    /// <summary>Kaiming (He) uniform, for <c>leaky_relu</c> with the leakyrelu activation, else <c>relu</c>.</summary>
    KaimingUniform,

    /// <summary>Kaiming (He) normal, for <c>leaky_relu</c> with the leakyrelu activation, else <c>relu</c>.</summary>
    KaimingNormal,
}

/// <summary>Reads <see cref="HypernetworkWeightInit"/> names as A1111 writes them.</summary>
public static class HypernetworkWeightInits
{
    /// <summary>The accepted names, as A1111 spells them.</summary>
    public static IReadOnlyList<string> Names { get; } = Enum.GetNames<HypernetworkWeightInit>();

    /// <summary>The initialisation called <paramref name="name"/> (exact spelling, e.g. <c>XavierUniform</c>).</summary>
    /// <exception cref="ArgumentException">An unknown name; the message lists the valid ones.</exception>
    public static HypernetworkWeightInit Parse(string name) =>
        Names.Contains(name, StringComparer.Ordinal) && Enum.TryParse<HypernetworkWeightInit>(name, out var init)
            ? init
            : throw new ArgumentException($"unknown hypernetwork weight initialization \"{name}\"; use one of {string.Join(", ", Names)}.");
}
