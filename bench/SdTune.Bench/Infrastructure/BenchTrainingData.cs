using SkiaSharp;

namespace SdTune.Bench.Infrastructure;

/// <summary>A tiny training folder for the full-size training benchmarks: solid-colour PNGs with captions, and condition images when asked.</summary>
internal static class BenchTrainingData
{
    /// <summary>
    /// Writes <paramref name="count"/> pictures of <paramref name="resolution"/> pixels square into the subset folder
    /// (kept when already there), each with a <c>.txt</c> caption and, with <paramref name="conditioning"/>, a white
    /// square on black of the same name in its <c>conditioning</c> subfolder. Returns the training folder (the subset's parent).
    /// </summary>
    public static string Write(string subsetFolder, int resolution, int count = 2, bool conditioning = false)
    {
        Directory.CreateDirectory(subsetFolder);
        for (var i = 0; i < count; i++)
        {
            var image = Path.Combine(subsetFolder, $"image{i}.png");
            Save(image, resolution, new SKColor((byte)(60 + (i * 90)), 120, 200), square: false);
            File.WriteAllText(Path.ChangeExtension(image, ".txt"), "a photo of a subject");
            if (conditioning)
            {
                Save(Path.Combine(subsetFolder, "conditioning", $"image{i}.png"), resolution, SKColors.Black, square: true);
            }
        }

        return Path.GetDirectoryName(Path.GetFullPath(subsetFolder))!;
    }

    private static void Save(string path, int resolution, SKColor color, bool square)
    {
        if (File.Exists(path))
        {
            return;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(resolution, resolution);
        bitmap.Erase(color);
        if (square)
        {
            using var canvas = new SKCanvas(bitmap);
            using var paint = new SKPaint { Color = SKColors.White };
            canvas.DrawRect(resolution / 4f, resolution / 4f, resolution / 2f, resolution / 2f, paint);
        }

        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, png.ToArray());
    }
}
