namespace SdTune.Checkpoints.SingleFile;

/// <summary>A tensor of an original checkpoint that is deliberately not converted, and why.</summary>
/// <param name="Name">The tensor name in the original file.</param>
/// <param name="Reason">Why it is not needed (schedule buffer, EMA copy, unused layer, ...).</param>
public sealed record IgnoredKey(string Name, string Reason);
