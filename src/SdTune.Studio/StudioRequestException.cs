namespace SdTune.Studio;

/// <summary>A request the studio refuses (answered 400): the message says what is wrong, <see cref="Field"/> names the field or training key.</summary>
public sealed class StudioRequestException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="field">The request field or training key at fault.</param>
    /// <param name="message">What is wrong with it.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public StudioRequestException(string field, string message, Exception? inner = null)
        : base(message, inner)
    {
        Field = field;
    }

    /// <summary>The request field or training key at fault.</summary>
    public string Field { get; }
}
