namespace SdTune.Imaging.Preprocessors;

/// <summary>OpenCV's native library could not be loaded; the message names the missing system library and its Debian package.</summary>
public sealed class OpenCvUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OpenCvUnavailableException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public OpenCvUnavailableException()
        : this("OpenCV's native library could not be loaded.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public OpenCvUnavailableException(string message)
        : this(message, null)
    {
    }
}
