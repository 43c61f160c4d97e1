namespace SdTune.Training.Data;

/// <summary>A training image or caption cannot be used. The message names the file and the problem.</summary>
/// <param name="path">The image or caption file.</param>
/// <param name="message">What is wrong with it.</param>
public sealed class DatasetException(string path, string message) : IOException($"{path}: {message}")
{
    /// <summary>The image or caption file.</summary>
    public string Path { get; } = path;
}
