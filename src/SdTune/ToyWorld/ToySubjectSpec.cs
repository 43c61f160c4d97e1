namespace SdTune.ToyWorld;

/// <summary>
/// Reads a <see cref="ToySubject"/> from TOML: <c>name</c>, <c>shape</c>, <c>color</c>, <c>pattern</c> (default
/// "solid") and <c>second_color</c> (required exactly when the pattern is not solid), as a file of its own or as the
/// <c>[subject]</c> table of a <see cref="BenchmarkSpec"/>.
/// </summary>
public static class ToySubjectSpec
{
    private static readonly string[] Keys = ["name", "shape", "color", "pattern", "second_color"];

    /// <summary>Reads and validates a subject file.</summary>
    /// <param name="path">The TOML file.</param>
    /// <exception cref="ToySpecException">The file is unreadable or invalid; the message names the file and key.</exception>
    public static ToySubject Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Parse(ToySpecReader.ReadFile(path), path);
    }

    /// <summary>Parses and validates a subject.</summary>
    /// <param name="toml">The TOML text.</param>
    /// <param name="source">The name used in error messages.</param>
    /// <exception cref="ToySpecException">The text is invalid; the message names the source and key.</exception>
    public static ToySubject Parse(string toml, string source)
    {
        ArgumentNullException.ThrowIfNull(toml);
        ArgumentNullException.ThrowIfNull(source);
        return Read(new ToySpecReader(ToySpecReader.ParseToml(toml, source), source, "top level"));
    }

    internal static ToySubject Read(ToySpecReader reader)
    {
        reader.RejectUnknown(Keys);
        var name = reader.String("name");
        if (string.IsNullOrWhiteSpace(name))
        {
            throw reader.Error("name", "must not be empty");
        }

        var shape = reader.Enum<ToyShape>("shape");
        var color = reader.Enum<ToyColor>("color");
        var pattern = reader.Enum("pattern", (ToyPattern?)ToyPattern.Solid);
        var second = reader.OptionalEnum<ToyColor>("second_color");
        if (pattern == ToyPattern.Solid && second is not null)
        {
            throw reader.Error("second_color", "must be left out for a solid subject (set 'pattern' to use a second colour)");
        }

        if (pattern != ToyPattern.Solid && second is null)
        {
            throw reader.Error("second_color", $"is required for a {ToyNames.Of(pattern)} subject");
        }

        if (second == color)
        {
            throw reader.Error("second_color", $"must differ from 'color' ({ToyNames.Of(color)})");
        }

        return new ToySubject(name, shape, color, pattern, second);
    }
}
