namespace SdTune.Training.Data;

/// <summary>One step's samples: all from the same dataset and bucket, so they stack into one tensor.</summary>
/// <param name="Index">The batch's position in the epoch (from 0).</param>
/// <param name="DatasetIndex">The <c>[[datasets]]</c> block.</param>
/// <param name="Bucket">The shared training size.</param>
/// <param name="Samples">The samples.</param>
public sealed record TrainingBatch(int Index, int DatasetIndex, PixelSize Bucket, IReadOnlyList<TrainingSample> Samples);
