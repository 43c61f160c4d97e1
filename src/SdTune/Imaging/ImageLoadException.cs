namespace SdTune.Imaging;

/// <summary>An image file could not be read: missing, not an image, truncated or corrupt. The message names the file.</summary>
public sealed class ImageLoadException : IOException
{
    /// <summary>Creates the exception for <paramref name="filePath"/>.</summary>
    public ImageLoadException(string filePath, string message, Exception? inner = null)
        : base(message, inner)
    {
        FilePath = filePath;
    }

    /// <summary>Creates the exception with a message only.</summary>
    public ImageLoadException()
        : this(string.Empty, "The image could not be read.")
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    public ImageLoadException(string message)
        : this(string.Empty, message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    public ImageLoadException(string message, Exception inner)
        : this(string.Empty, message, inner)
    {
    }

    /// <summary>The file that could not be read.</summary>
    public string FilePath { get; }
}
