namespace SdTune.ToyWorld;

/// <summary>
/// The words for the toy world's attributes, as used in captions and spec files ("red", "top left", "striped"...),
/// and their parsing.
/// </summary>
public static class ToyNames
{
    private static readonly string[] PositionWords =
        ["top left", "top", "top right", "left", "center", "right", "bottom left", "bottom", "bottom right"];

    /// <summary>The word for a shape ("star").</summary>
    /// <param name="shape">The shape.</param>
    public static string Of(ToyShape shape) => Lower(shape);

    /// <summary>The word for a colour ("red").</summary>
    /// <param name="color">The colour.</param>
    public static string Of(ToyColor color) => Lower(color);

    /// <summary>The word for a size ("large").</summary>
    /// <param name="size">The size.</param>
    public static string Of(ToySize size) => Lower(size);

    /// <summary>The words for a position ("top left", "center").</summary>
    /// <param name="position">The position.</param>
    public static string Of(ToyPosition position) => PositionWords[(int)position];

    /// <summary>The word for a fill pattern ("striped").</summary>
    /// <param name="pattern">The pattern.</param>
    public static string Of(ToyPattern pattern) => Lower(pattern);

    /// <summary>Parses an attribute word (case-insensitive; for positions also "top-left", "top_left" and "centre").</summary>
    /// <typeparam name="T">One of the toy world's attribute enums.</typeparam>
    /// <param name="word">The word.</param>
    /// <param name="value">The value, when the word is known.</param>
    /// <returns>True when the word names a value of <typeparamref name="T"/>.</returns>
    public static bool TryParse<T>(string? word, out T value)
        where T : struct, Enum
    {
        value = default;
        if (string.IsNullOrWhiteSpace(word))
        {
            return false;
        }

        var normalised = word.Trim().Replace('-', ' ').Replace('_', ' ').ToLowerInvariant();
        if (normalised == "centre")
        {
            normalised = "center";
        }

        foreach (var candidate in Enum.GetValues<T>())
        {
            if (string.Equals(Word(candidate), normalised, StringComparison.Ordinal))
            {
                value = candidate;
                return true;
            }
        }

        return false;
    }

    /// <summary>All words of an attribute, comma-separated, for error messages.</summary>
    /// <typeparam name="T">One of the toy world's attribute enums.</typeparam>
    public static string ValidWords<T>()
        where T : struct, Enum =>
        string.Join(", ", Enum.GetValues<T>().Select(v => $"\"{Word(v)}\""));

    private static string Word<T>(T value)
        where T : struct, Enum => value switch
        {
            ToyPosition p => Of(p),
            _ => Lower(value),
        };

    private static string Lower<T>(T value)
        where T : struct, Enum => value.ToString().ToLowerInvariant();
}
