namespace SdTune.Pipelines;

/// <summary>Where a pipeline finds embeddings and LoRAs, and what it records about the model.</summary>
public sealed record PipelineOptions
{
    /// <summary>Folder of textual-inversion embeddings referenced by file name in prompts; null for none.</summary>
    public string? EmbeddingsFolder { get; init; }

    /// <summary>Folder of LoRA files referenced by <c>&lt;lora:name:…&gt;</c> tags; null to accept only paths.</summary>
    public string? LoraFolder { get; init; }

    /// <summary>Folder of hypernetwork files (<c>.pt</c>) referenced by <c>&lt;hypernet:name:…&gt;</c> tags; null to accept only paths.</summary>
    public string? HypernetworkFolder { get; init; }

    /// <summary>The model's name in the PNG infotext (A1111 "Model").</summary>
    public string? ModelName { get; init; }

    /// <summary>The model's short hash in the PNG infotext (A1111 "Model hash": first 10 hex of the file's SHA-256).</summary>
    public string? ModelHash { get; init; }

    /// <summary>Images with more pixels than this are decoded through the tiled VAE unless a request says otherwise.</summary>
    public long TiledVaeAbovePixels { get; init; } = 1024L * 1024;
}

/// <summary>Progress of one request: sampling step <paramref name="Step"/> of <paramref name="Total"/> is done.</summary>
public sealed record GenerationProgress(int Step, int Total);
