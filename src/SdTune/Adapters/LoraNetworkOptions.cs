namespace SdTune.Adapters;

/// <summary>
/// What a new trainable network adapts and how (kohya's <c>network_dim</c>, <c>network_alpha</c> and <c>network_args</c>).
/// Linear and 1x1 conv layers use <see cref="Dim"/>/<see cref="Alpha"/>; larger convolutions are adapted only when
/// <see cref="ConvDim"/> is set, which also adds the resnet and up/downsampler layers.
/// </summary>
public sealed record LoraNetworkOptions
{
    /// <summary>The algorithm (<see cref="AdapterAlgorithms"/>): <c>lora</c> (default), <c>loha</c>, <c>lokr</c>.</summary>
    public string Algorithm { get; init; } = "lora";

    /// <summary>Rank of Linear and 1x1 conv modules (kohya default 4).</summary>
    public int Dim { get; init; } = 4;

    /// <summary>Alpha of those modules (kohya default 1); null or 0 means alpha = rank.</summary>
    public double? Alpha { get; init; } = 1;

    /// <summary>Rank of 3x3 conv modules; null leaves them and the resnet/sampler blocks out.</summary>
    public int? ConvDim { get; init; }

    /// <summary>Alpha of 3x3 conv modules (kohya default 1).</summary>
    public double? ConvAlpha { get; init; }

    /// <summary>Dropout on the rank activations (kohya <c>network_dropout</c>).</summary>
    public double Dropout { get; init; }

    /// <summary>Rank dropout probability.</summary>
    public double RankDropout { get; init; }

    /// <summary>Module dropout probability.</summary>
    public double ModuleDropout { get; init; }

    /// <summary>Initial multiplier of every module.</summary>
    public double Multiplier { get; init; } = 1.0;

    /// <summary>Adapt the UNet.</summary>
    public bool TrainUnet { get; init; } = true;

    /// <summary>Adapt the text encoder(s).</summary>
    public bool TrainTextEncoder { get; init; } = true;

    /// <summary>Algorithm-specific arguments (LyCORIS names: <c>factor</c>, <c>use_tucker</c>, <c>decompose_both</c>, ...).</summary>
    public IReadOnlyDictionary<string, string> AlgorithmArguments { get; init; } = new Dictionary<string, string>();

    /// <summary>Checks ranges; the message names the field.</summary>
    /// <exception cref="ArgumentException">A value is out of range or the algorithm is unknown.</exception>
    public void Validate()
    {
        AdapterAlgorithms.Get(Algorithm);
        if (Dim < 1)
        {
            throw new ArgumentException($"network_dim must be at least 1, got {Dim}.", nameof(Dim));
        }

        if (ConvDim is < 1)
        {
            throw new ArgumentException($"conv_dim must be at least 1 when set, got {ConvDim}.", nameof(ConvDim));
        }

        foreach (var (name, p) in new[] { ("dropout", Dropout), ("rank_dropout", RankDropout), ("module_dropout", ModuleDropout) })
        {
            if (p is < 0 or >= 1)
            {
                throw new ArgumentException($"{name} must be in [0, 1), got {p}.", name);
            }
        }
    }
}
