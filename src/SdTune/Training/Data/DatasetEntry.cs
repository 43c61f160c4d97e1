namespace SdTune.Training.Data;

/// <summary>One image a subset lists, before its size is read.</summary>
/// <param name="Path">The image file.</param>
/// <param name="Caption">Its stored caption.</param>
/// <param name="ConditioningPath">The condition image the listing itself names (a <c>metadata.jsonl</c> line), or null.</param>
internal sealed record DatasetEntry(string Path, string Caption, string? ConditioningPath = null);
