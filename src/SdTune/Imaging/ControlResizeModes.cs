namespace SdTune.Imaging;

/// <summary>Names of <see cref="ControlResizeMode"/>: the extension's display names and kebab-case aliases.</summary>
public static class ControlResizeModes
{
    private static readonly (ControlResizeMode Mode, string Name, string Alias)[] Entries =
    [
        (ControlResizeMode.CropAndResize, "Crop and Resize", "crop"),
        (ControlResizeMode.JustResize, "Just Resize", "just-resize"),
        (ControlResizeMode.ResizeAndFill, "Resize and Fill", "fill"),
    ];

    /// <summary>The kebab-case aliases, in the order the extension lists the modes after its default.</summary>
    public static IReadOnlyList<string> Aliases { get; } = [.. Entries.Select(e => e.Alias)];

    /// <summary>The display name (<c>Crop and Resize</c>, <c>Just Resize</c>, <c>Resize and Fill</c>).</summary>
    public static string DisplayName(ControlResizeMode mode) =>
        Entries.FirstOrDefault(e => e.Mode == mode).Name ?? throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown resize mode.");

    /// <summary>
    /// Reads a mode from its display name, alias or the kebab-case display name (<c>crop-and-resize</c>), any case; the
    /// extension's older names "Inner Fit (Scale to Fit)" and "Outer Fit (Shrink to Fit)" are accepted too.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the valid ones.</exception>
    public static ControlResizeMode Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.Trim();
        foreach (var (mode, display, alias) in Entries)
        {
            if (string.Equals(key, display, StringComparison.OrdinalIgnoreCase) || string.Equals(key, alias, StringComparison.OrdinalIgnoreCase)
                || string.Equals(key, display.Replace(' ', '-'), StringComparison.OrdinalIgnoreCase))
            {
                return mode;
            }
        }

        return key.ToUpperInvariant() switch
        {
            "INNER FIT (SCALE TO FIT)" => ControlResizeMode.CropAndResize,
            "OUTER FIT (SHRINK TO FIT)" => ControlResizeMode.ResizeAndFill,
            "ENVELOPE (OUTER FIT)" => ControlResizeMode.ResizeAndFill,
            _ => throw new ArgumentException(
                $"Unknown resize mode '{name}'. Valid modes: {string.Join(", ", Entries.Select(e => $"\"{e.Name}\" ({e.Alias})"))}."),
        };
    }
}
