namespace SdTune.ToyWorld;

/// <summary>A toy-world spec file (subject or benchmark) is missing or invalid; the message names the file and the field.</summary>
public sealed class ToySpecException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ToySpecException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong, naming the file and field.</param>
    public ToySpecException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">What is wrong, naming the file and field.</param>
    /// <param name="innerException">The cause.</param>
    public ToySpecException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
