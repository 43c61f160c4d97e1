using SdTune.Models;
using static TorchSharp.torch;

namespace SdTune.Adapters.Formats;

/// <summary>What goes into a kohya LoRA file besides the tensors.</summary>
public sealed record KohyaSaveOptions
{
    /// <summary>Tensor type in the file (kohya <c>--save_precision</c>); null keeps the trained type (float32).</summary>
    public ScalarType? SaveDType { get; init; }

    /// <summary>The output name (<c>ss_output_name</c>, and <c>modelspec.title</c>); null uses the file name without extension.</summary>
    public string? OutputName { get; init; }

    /// <summary>Training resolution as "WxH" (<c>modelspec.resolution</c>); null uses the family's default (512, 768 for v-prediction SD 2.x, 1024).</summary>
    public string? Resolution { get; init; }

    /// <summary>What the base model predicts (<c>modelspec.prediction_type</c>, and the SD 2.x architecture name).</summary>
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;

    /// <summary>Clip skip used in training (<c>ss_clip_skip</c>, <c>modelspec.encoder_layer</c>); null when not set.</summary>
    public int? ClipSkip { get; init; }

    /// <summary>When the file was made (<c>modelspec.date</c>); null uses now.</summary>
    public DateTimeOffset? Date { get; init; }

    /// <summary>Further metadata from the trainer (<c>ss_learning_rate</c>, <c>ss_steps</c>, ...); written as given, after the network's own keys.</summary>
    public IReadOnlyDictionary<string, string> TrainingMetadata { get; init; } = new Dictionary<string, string>();
}
