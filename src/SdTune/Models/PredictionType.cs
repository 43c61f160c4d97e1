namespace SdTune.Models;

/// <summary>What a denoising model predicts (<c>prediction_type</c> in a diffusers scheduler config).</summary>
public enum PredictionType
{
    /// <summary>The added noise ε (<c>"epsilon"</c>): SD 1.x, SD 2.x base, SDXL.</summary>
    Epsilon,

    /// <summary>The velocity v = √ᾱ·ε − √(1−ᾱ)·x₀ (<c>"v_prediction"</c>): SD 2.x 768-v models.</summary>
    VPrediction,

    /// <summary>The clean sample x₀ itself (<c>"sample"</c>).</summary>
    Sample,
}
