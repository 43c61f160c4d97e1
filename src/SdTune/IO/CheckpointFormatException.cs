namespace SdTune.IO;

/// <summary>A model, weights or state file is malformed or of the wrong kind. The message names the file.</summary>
/// <param name="path">The file (or folder) that was being read.</param>
/// <param name="message">What is wrong, naming the tensor or field where there is one.</param>
public sealed class CheckpointFormatException(string path, string message) : IOException($"{path}: {message}")
{
    /// <summary>The file (or folder) that was being read.</summary>
    public string Path { get; } = path;
}
