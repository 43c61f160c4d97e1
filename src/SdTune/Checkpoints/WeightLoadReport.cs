using SdTune.Checkpoints;

namespace SdTune.Checkpoints;

/// <summary>What <see cref="ModuleWeights"/> did when it copied a state dict into a module.</summary>
/// <param name="Loaded">Module tensor names that received a value from the source.</param>
/// <param name="Missing">Module tensor names the source had no value for (they keep their previous values).</param>
/// <param name="Unexpected">Source names (relative to the prefix) that match no module tensor and were not ignored.</param>
/// <param name="Ignored">Source names (relative to the prefix) that match no module tensor and were skipped by the ignore predicate.</param>
public sealed record WeightLoadReport(
    IReadOnlyList<string> Loaded,
    IReadOnlyList<string> Missing,
    IReadOnlyList<string> Unexpected,
    IReadOnlyList<string> Ignored)
{
    /// <summary>True when every module tensor was loaded and the source held nothing unexpected.</summary>
    public bool IsComplete => Missing.Count == 0 && Unexpected.Count == 0;
}
