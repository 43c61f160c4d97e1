using SdTune.Training.Data;
using SkiaSharp;
using TorchSharp;

namespace SdTune.Tests.Training.Data;

public class ImageFileReaderTests
{
    private readonly ImageFileReader _reader = new();

    [Fact]
    public void Probe_reads_the_size_and_applies_exif_rotation()
    {
        using var dir = TestPaths.NewTempDir();
        Assert.Equal(new PixelSize(40, 24), _reader.Probe(DataTestFiles.Png(dir.File("a.png"), 40, 24)));
        Assert.Equal(new PixelSize(24, 40), _reader.Probe(DataTestFiles.JpegWithOrientation(dir.File("r.jpg"), 40, 24, 6)));
        Assert.Equal(new PixelSize(40, 24), _reader.Probe(DataTestFiles.JpegWithOrientation(dir.File("u.jpg"), 40, 24, 3)));

        using var rotated = _reader.Load(dir.File("r.jpg"), new PixelSize(24, 40), new PixelRect(0, 0, 24, 40), false);
        Assert.Equal([3L, 40, 24], rotated.shape);
    }

    [Fact]
    public void Corrupt_and_missing_images_name_the_file()
    {
        using var dir = TestPaths.NewTempDir();
        File.WriteAllText(dir.File("bad.png"), "not an image");
        var bad = Assert.Throws<DatasetException>(() => _reader.Probe(dir.File("bad.png")));
        Assert.Equal(dir.File("bad.png"), bad.Path);
        Assert.StartsWith(dir.File("bad.png") + ": ", bad.Message, StringComparison.Ordinal);
        Assert.Contains("is not an image", bad.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Assert.Throws<DatasetException>(() => _reader.Probe(dir.File("none.png"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_crops_flips_and_scales_to_minus_one_one()
    {
        using var dir = TestPaths.NewTempDir();

        // Left half black, right half white, 8x4.
        var path = DataTestFiles.Png(dir.File("halves.png"), 8, 4, SKColors.White, SKColors.Black);
        using var scope = torch.NewDisposeScope();
        var whole = _reader.Load(path, new PixelSize(8, 4), new PixelRect(0, 0, 8, 4), false);
        Assert.Equal(-1f, whole[0, 0, 0].item<float>());
        Assert.Equal(1f, whole[2, 3, 7].item<float>());

        var cropped = _reader.Load(path, new PixelSize(8, 4), new PixelRect(2, 1, 4, 2), false);
        Assert.Equal([3L, 2, 4], cropped.shape);
        Assert.Equal(new[] { -1f, -1f, 1f, 1f }, cropped[1, 0].data<float>().ToArray());

        var flipped = _reader.Load(path, new PixelSize(8, 4), new PixelRect(2, 1, 4, 2), true);
        Assert.Equal(new[] { 1f, 1f, -1f, -1f }, flipped[1, 0].data<float>().ToArray());

        var resized = _reader.Load(path, new PixelSize(16, 8), new PixelRect(0, 0, 16, 8), false);
        Assert.Equal([3L, 8, 16], resized.shape);
        Assert.Throws<ArgumentOutOfRangeException>(() => _reader.Load(path, new PixelSize(8, 4), new PixelRect(6, 0, 4, 4), false));
    }
}
