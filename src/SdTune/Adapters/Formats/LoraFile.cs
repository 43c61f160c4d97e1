namespace SdTune.Adapters.Formats;

/// <summary>An adapter file read for a set of models.</summary>
/// <param name="Path">The file.</param>
/// <param name="Network">The modules it holds, named with kohya names whatever the file's layout.</param>
/// <param name="UnmatchedKeys">Tensor names that fit no layer of the models or no known algorithm, in file order.</param>
/// <param name="Metadata">The file's metadata.</param>
public sealed record LoraFile(string Path, LoraNetwork Network, IReadOnlyList<string> UnmatchedKeys, IReadOnlyDictionary<string, string> Metadata);
