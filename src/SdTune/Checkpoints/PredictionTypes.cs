using SdTune.Checkpoints.SingleFile;

namespace SdTune.Checkpoints;

/// <summary>The diffusers spelling of <see cref="PredictionType"/> (<c>prediction_type</c> in scheduler configs).</summary>
public static class PredictionTypes
{
    /// <summary>"epsilon" or "v_prediction".</summary>
    /// <exception cref="ArgumentException">The type is <see cref="PredictionType.Unknown"/>.</exception>
    public static string ToDiffusers(PredictionType type) => type switch
    {
        PredictionType.Epsilon => "epsilon",
        PredictionType.VPrediction => "v_prediction",
        _ => throw new ArgumentException($"prediction type {type} has no diffusers spelling", nameof(type)),
    };

    /// <summary>Parses a diffusers <c>prediction_type</c>; null for a spelling SdTune does not support (e.g. "sample").</summary>
    public static PredictionType? FromDiffusers(string? value) => value switch
    {
        "epsilon" => PredictionType.Epsilon,
        "v_prediction" => PredictionType.VPrediction,
        _ => null,
    };
}
