namespace SdTune.Training.Data;

/// <summary>One subset's line of the dataset summary.</summary>
/// <param name="DatasetIndex">The <c>[[datasets]]</c> block (from 0).</param>
/// <param name="SubsetIndex">The subset (from 0).</param>
/// <param name="Source">Its image folder or metadata file.</param>
/// <param name="ImageCount">Images found.</param>
/// <param name="NumRepeats">Its <c>num_repeats</c>.</param>
/// <param name="IsReg">A regularisation subset.</param>
/// <param name="ClassTokens">Its class tokens, if any.</param>
public sealed record SubsetSummary(int DatasetIndex, int SubsetIndex, string Source, int ImageCount, int NumRepeats, bool IsReg, string? ClassTokens);
