namespace SdTune.Checkpoints.Hypernetworks;

/// <summary>
/// What an A1111 hypernetwork <c>.pt</c> holds, key by key, with A1111's load defaults for keys an older file lacks
/// (<see cref="HypernetworkFile"/> reads and writes it; the maths is in <c>Adapters/Hypernetworks</c>).
/// </summary>
public sealed record HypernetworkFileContents
{
    /// <summary>The state dicts per context width, in file order.</summary>
    public required IReadOnlyList<HypernetworkFileLayer> Layers { get; init; }

    /// <summary><c>name</c>; null when the file has none (A1111 then uses the file name).</summary>
    public string? Name { get; init; }

    /// <summary><c>step</c>: the training steps done; null when unknown.</summary>
    public long? Step { get; init; }

    /// <summary><c>layer_structure</c> (default <c>[1, 2, 1]</c>).</summary>
    public IReadOnlyList<double> LayerStructure { get; init; } = [1, 2, 1];

    /// <summary><c>activation_func</c> (default None, which is linear).</summary>
    public string? ActivationFunc { get; init; }

    /// <summary><c>weight_initialization</c> (default <c>Normal</c>).</summary>
    public string WeightInitialization { get; init; } = "Normal";

    /// <summary><c>is_layer_norm</c> (default false).</summary>
    public bool IsLayerNorm { get; init; }

    /// <summary><c>activate_output</c> (default true when the key is missing, as A1111 loads old files).</summary>
    public bool ActivateOutput { get; init; } = true;

    /// <summary><c>use_dropout</c> (default false).</summary>
    public bool UseDropout { get; init; }

    /// <summary><c>dropout_structure</c>; null when the file has none (derived from the other keys then).</summary>
    public IReadOnlyList<double>? DropoutStructure { get; init; }

    /// <summary><c>last_layer_dropout</c> (default false).</summary>
    public bool LastLayerDropout { get; init; }

    /// <summary><c>sd_checkpoint</c>: the short hash of the model it was trained on.</summary>
    public string? SdCheckpoint { get; init; }

    /// <summary><c>sd_checkpoint_name</c>: the name of the model it was trained on.</summary>
    public string? SdCheckpointName { get; init; }

    /// <summary><c>optional_info</c>: free text.</summary>
    public string? OptionalInfo { get; init; }
}
