namespace SdTune.Cli.Errors;

/// <summary>An exception's message as one line for the terminal, without .NET's decorations.</summary>
internal static class ExceptionMessage
{
    /// <summary>
    /// The message of <paramref name="exception"/> (of its single inner exception, for an aggregate) on one line:
    /// without the " (Parameter 'name')" and "Actual value was ..." parts .NET appends to argument exceptions, and
    /// with line breaks folded into spaces.
    /// </summary>
    public static string OneLine(Exception exception)
    {
        exception = Unwrap(exception);
        var message = exception.Message;
        if (exception is ArgumentOutOfRangeException { ActualValue: { } actual })
        {
            message = WithoutSuffix(message, new ArgumentOutOfRangeException(null, actual, "").Message);
        }

        if (exception is ArgumentException { ParamName: { Length: > 0 } name })
        {
            message = WithoutSuffix(message, new ArgumentException("", name).Message);
        }

        return string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
    }

    /// <summary>The exception an aggregate of one exception stands for; any other exception itself.</summary>
    public static Exception Unwrap(Exception exception)
    {
        while (exception is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            exception = aggregate.InnerExceptions[0];
        }

        return exception;
    }

    private static string WithoutSuffix(string message, string suffix) =>
        suffix.Length > 0 && message.EndsWith(suffix, StringComparison.Ordinal) ? message[..^suffix.Length] : message;
}
