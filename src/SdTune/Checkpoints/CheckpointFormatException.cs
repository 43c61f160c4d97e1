namespace SdTune.Checkpoints;

/// <summary>A checkpoint file is malformed, truncated, or contains something a safe reader refuses.</summary>
/// <param name="path">The file that was being read or written.</param>
/// <param name="message">What is wrong with it.</param>
public sealed class CheckpointFormatException(string path, string message) : IOException($"{path}: {message}")
{
    /// <summary>The file that was being read or written.</summary>
    public string Path { get; } = path;
}
