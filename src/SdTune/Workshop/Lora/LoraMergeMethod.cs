namespace SdTune.Workshop.Lora;

/// <summary>How <see cref="LoraMerge"/> combines LoRAs.</summary>
public enum LoraMergeMethod
{
    /// <summary>Join the factors along the rank (ranks add up): the merged delta is exactly the weighted sum. LoRA/LoCon inputs only.</summary>
    Concat,

    /// <summary>Sum the weighted full deltas and factor the sum by SVD at a chosen rank (kohya's <c>svd_merge_lora.py</c>); any family.</summary>
    Svd,
}
