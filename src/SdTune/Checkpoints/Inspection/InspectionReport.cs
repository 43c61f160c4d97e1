namespace SdTune.Checkpoints.Inspection;

/// <summary>What <see cref="ModelInspector"/> found in a file or folder.</summary>
public sealed record InspectionReport
{
    /// <summary>The inspected path.</summary>
    public required string Path { get; init; }

    /// <summary>Container format: safetensors, pytorch-pickle or diffusers-folder.</summary>
    public required string Format { get; init; }

    /// <summary>What the file holds.</summary>
    public required ModelFileKind Kind { get; init; }

    /// <summary>Model family, when it can be told from the tensors.</summary>
    public ModelArchitecture Architecture { get; init; }

    /// <summary>A finer description: the LoRA algorithm, embedding format, checkpoint variant, ...</summary>
    public string? Flavour { get; init; }

    /// <summary>Number of tensors.</summary>
    public long TensorCount { get; init; }

    /// <summary>Number of elements over all tensors.</summary>
    public long ParameterCount { get; init; }

    /// <summary>How many tensors of each element type.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("dtypes")]
    public IReadOnlyDictionary<string, int> DTypes { get; init; } = new Dictionary<string, int>();

    /// <summary>String metadata stored with the weights (safetensors <c>__metadata__</c>, embedding fields, ...).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>Components of a folder or checkpoint, each inspected on its own.</summary>
    public IReadOnlyList<InspectionReport> Components { get; init; } = [];

    /// <summary>Observations worth showing the user (ignored keys, unusual variants).</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
