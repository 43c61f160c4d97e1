using SkiaSharp;

namespace SdTune.Imaging;

/// <summary>Finds a typeface for grid labels: DejaVu Sans or Liberation Sans from the usual font folders, else the font manager's match.</summary>
internal static class GridFont
{
    /// <summary>Font files tried in order: Debian/Ubuntu, Fedora/Arch layouts, macOS and Windows.</summary>
    public static readonly IReadOnlyList<string> DefaultCandidates =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/Library/Fonts/Arial.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        "C:\\Windows\\Fonts\\arial.ttf",
    ];

    /// <summary>The first usable typeface among <paramref name="candidates"/>, then the font manager's; null if none can draw text.</summary>
    public static SKTypeface? Locate(IEnumerable<string> candidates, bool askFontManager)
    {
        foreach (var file in candidates)
        {
            if (File.Exists(file) && SKTypeface.FromFile(file) is { } typeface)
            {
                if (CanDraw(typeface))
                {
                    return typeface;
                }

                typeface.Dispose();
            }
        }

        if (askFontManager)
        {
            foreach (var family in new[] { "DejaVu Sans", "Liberation Sans", "Arial", "sans-serif" })
            {
                if (SKFontManager.Default.MatchFamily(family) is { } typeface)
                {
                    if (CanDraw(typeface))
                    {
                        return typeface;
                    }

                    typeface.Dispose();
                }
            }
        }

        return null;
    }

    /// <summary>An empty typeface (what a font-less system yields) has no glyph for 'A'.</summary>
    public static bool CanDraw(SKTypeface typeface) => typeface.GlyphCount > 0 && typeface.GetGlyph('A') != 0;
}
