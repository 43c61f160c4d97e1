namespace SdTune.Training;

/// <summary>A training configuration value is missing, malformed or out of range; the message names the key.</summary>
public sealed class TrainingConfigException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="key">The configuration key (as written in the TOML file) that is wrong.</param>
    /// <param name="message">What is wrong with it.</param>
    /// <param name="inner">The underlying error, if any.</param>
    /// <param name="source">Where the key was written (a file, or "override"), when known; it then leads the message.</param>
    public TrainingConfigException(string key, string message, Exception? inner = null, string? source = null)
        : base(source is null ? $"{key}: {message}" : $"{source}: {key}: {message}", inner)
    {
        Key = key;
        Origin = source;
    }

    /// <summary>The configuration key that is wrong.</summary>
    public string Key { get; }

    /// <summary>Where the key was written (a file, or "override"); null when not known.</summary>
    public string? Origin { get; }
}
