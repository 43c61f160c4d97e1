namespace SdTune.Training.Data;

/// <summary>
/// A dataset configuration (TOML file or training folder) is invalid. The message names the file, the level
/// (<c>[general]</c>, <c>[[datasets]]</c> #n, <c>[[datasets.subsets]]</c> #n.m) and the key.
/// </summary>
public sealed class DatasetConfigException : Exception
{
    /// <summary>Creates the exception; <paramref name="message"/> should already name source, level and key.</summary>
    /// <param name="message">What is wrong.</param>
    public DatasetConfigException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception wrapping the error that caused it.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The underlying error.</param>
    public DatasetConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception with an empty message.</summary>
    public DatasetConfigException()
    {
    }
}
