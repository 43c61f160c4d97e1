using SkiaSharp;

namespace SdTune.Tests.Training.Data;

/// <summary>Writes the small images and captions the data-layer tests read.</summary>
internal static class DataTestFiles
{
    /// <summary>Writes a solid PNG (optionally with a distinct left half so flips and crops are visible).</summary>
    public static string Png(string path, int width, int height, SKColor? color = null, SKColor? leftHalf = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(color ?? SKColors.Gray);
        if (leftHalf is { } left)
        {
            for (var y = 0; y < height; y++)
            {
                for (var x = 0; x < width / 2; x++)
                {
                    bitmap.SetPixel(x, y, left);
                }
            }
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    /// <summary>Writes a JPEG carrying an EXIF orientation tag (inserted as an APP1 segment after SOI).</summary>
    public static string JpegWithOrientation(string path, int storedWidth, int storedHeight, ushort orientation)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(storedWidth, storedHeight, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        bitmap.Erase(SKColors.Red);
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        var jpeg = data.ToArray();

        // TIFF (little endian): header, one IFD entry 0x0112 SHORT 1 = orientation, no next IFD.
        byte[] tiff =
        [
            (byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0,
            1, 0,
            0x12, 0x01, 3, 0, 1, 0, 0, 0, (byte)orientation, (byte)(orientation >> 8), 0, 0,
            0, 0, 0, 0,
        ];
        var payload = new List<byte>("Exif\0\0"u8.ToArray());
        payload.AddRange(tiff);
        var length = payload.Count + 2;
        var bytes = new List<byte> { 0xFF, 0xD8, 0xFF, 0xE1, (byte)(length >> 8), (byte)length };
        bytes.AddRange(payload);
        bytes.AddRange(jpeg.Skip(2));
        File.WriteAllBytes(path, bytes.ToArray());
        return path;
    }

    public static string Text(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }
}

/// <summary>A random source that returns scripted values, so each caption rule can be checked exactly.</summary>
internal sealed class ScriptedRandom(IEnumerable<double>? doubles = null, IEnumerable<int>? ints = null) : SdTune.Training.Data.IRandomSource
{
    private readonly Queue<double> _doubles = new(doubles ?? []);
    private readonly Queue<int> _ints = new(ints ?? []);

    public int DoublesDrawn { get; private set; }

    public double NextDouble()
    {
        DoublesDrawn++;
        return _doubles.Count > 0 ? _doubles.Dequeue() : throw new InvalidOperationException("no scripted double left");
    }

    public int NextInt(int maxExclusive)
    {
        var v = _ints.Count > 0 ? _ints.Dequeue() : throw new InvalidOperationException("no scripted int left");
        return v < maxExclusive ? v : throw new InvalidOperationException($"scripted {v} >= {maxExclusive}");
    }
}

/// <summary>An image reader that knows sizes by file name and decodes nothing (for bucketing/epoch tests).</summary>
internal sealed class FakeSizeReader(Func<string, SdTune.Training.Data.PixelSize> size) : SdTune.Training.Data.IImageReader
{
    public SdTune.Training.Data.PixelSize Probe(string path) => size(path);

    public TorchSharp.torch.Tensor Load(string path, SdTune.Training.Data.PixelSize resizeTo, SdTune.Training.Data.PixelRect crop, bool flipHorizontal) =>
        throw new NotSupportedException();
}
