namespace SdTune.Checkpoints.SingleFile;

/// <summary>What the UNet was trained to predict. Tensor shapes cannot tell epsilon from v-prediction.</summary>
public enum PredictionType
{
    /// <summary>Not known: the file carries no hint and the family has no single default (SD 2.x 512-base vs 768-v).</summary>
    Unknown,

    /// <summary>The added noise (diffusers <c>"epsilon"</c>).</summary>
    Epsilon,

    /// <summary>The velocity (diffusers <c>"v_prediction"</c>).</summary>
    VPrediction,
}
