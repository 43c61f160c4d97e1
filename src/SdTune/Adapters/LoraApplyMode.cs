namespace SdTune.Adapters;

/// <summary>How an adapter file acts on the models at inference.</summary>
public enum LoraApplyMode
{
    /// <summary>Forward hooks add the adapter's output; the weights stay untouched (exact removal, some cost per step).</summary>
    Hooks,

    /// <summary>The weight deltas are added to the weights (no cost per step; removal subtracts them again).</summary>
    Merge,
}
