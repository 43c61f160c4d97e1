namespace SdTune.Training;

/// <summary>A training configuration value is missing, malformed or out of range; the message names the key.</summary>
public sealed class TrainingConfigException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="key">The configuration key (as written in the TOML file) that is wrong.</param>
    /// <param name="message">What is wrong with it.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public TrainingConfigException(string key, string message, Exception? inner = null)
        : base($"{key}: {message}", inner)
    {
        Key = key;
    }

    /// <summary>The configuration key that is wrong.</summary>
    public string Key { get; }
}
