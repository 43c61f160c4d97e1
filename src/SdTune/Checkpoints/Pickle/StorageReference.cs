namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// A storage named by a pickle's persistent id, validated against the bytes the file really holds but not read
/// yet. Several tensors may share one.
/// </summary>
/// <param name="Key">The storage's key (its entry name under <c>data/</c> in a zip checkpoint).</param>
/// <param name="Type">The storage class, which fixes the dtype.</param>
/// <param name="ElementCount">How many elements the storage holds.</param>
/// <param name="ElementOffset">Where a legacy storage view starts inside its base storage; 0 otherwise.</param>
internal sealed record StorageReference(string Key, TorchStorageType Type, long ElementCount, long ElementOffset);
