using SdTune.Models;

namespace SdTune.Models;

/// <summary>The diffusers spelling of <see cref="PredictionType"/> (<c>prediction_type</c> in scheduler configs).</summary>
public static class PredictionTypes
{
    /// <summary>"epsilon", "v_prediction" or "sample".</summary>
    public static string ToDiffusers(PredictionType type) => type switch
    {
        PredictionType.Epsilon => "epsilon",
        PredictionType.VPrediction => "v_prediction",
        PredictionType.Sample => "sample",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown prediction type"),
    };

    /// <summary>Parses a diffusers <c>prediction_type</c>; null for an unknown spelling.</summary>
    public static PredictionType? FromDiffusers(string? value) => value switch
    {
        "epsilon" => PredictionType.Epsilon,
        "v_prediction" => PredictionType.VPrediction,
        "sample" => PredictionType.Sample,
        _ => null,
    };
}
