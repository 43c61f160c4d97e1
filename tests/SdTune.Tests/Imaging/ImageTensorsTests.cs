using SdTune.Imaging;
using SkiaSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Imaging;

public class ImageTensorsTests
{
    [Fact]
    public void Every_byte_value_survives_a_round_trip()
    {
        using var source = TestImages.Create(256, 1, (x, _) => new SKColor((byte)x, (byte)(255 - x), (byte)((x * 7) % 256)));
        using var scope = NewDisposeScope();

        using var back = ImageTensors.ToBitmap(ImageTensors.FromImage(source));

        for (var x = 0; x < 256; x++)
        {
            Assert.Equal(source.GetPixel(x, 0), back.GetPixel(x, 0));
        }
    }

    [Fact]
    public void Tensor_is_channel_first_rgb_in_minus_one_to_one()
    {
        using var source = TestImages.Create(2, 3, (x, y) => new SKColor((byte)(x * 255), (byte)(y * 100), 51));
        using var scope = NewDisposeScope();

        var t = ImageTensors.FromImage(source);

        Assert.Equal([3L, 3, 2], t.shape);
        Assert.Equal(ScalarType.Float32, t.dtype);
        for (var y = 0; y < 3; y++)
        {
            for (var x = 0; x < 2; x++)
            {
                var c = source.GetPixel(x, y);
                Assert.Equal((2.0 * c.Red / 255.0) - 1.0, t[0, y, x].item<float>(), 6);
                Assert.Equal((2.0 * c.Green / 255.0) - 1.0, t[1, y, x].item<float>(), 6);
                Assert.Equal((2.0 * c.Blue / 255.0) - 1.0, t[2, y, x].item<float>(), 6);
            }
        }
    }

    [Fact]
    public void Conversion_to_bytes_clamps_and_rounds_like_diffusers()
    {
        using var scope = NewDisposeScope();

        // Channels R = [-1, 0], G = [1, -3], B = [2, NaN]. 0 maps to 127.5, which rounds to 128 (A1111's
        // truncation would give 127); out-of-range values clamp; NaN becomes 0.
        var t = tensor(new float[] { -1f, 0f, 1f, -3f, 2f, float.NaN }, [3L, 1, 2]);
        using var bitmap = ImageTensors.ToBitmap(t);

        Assert.Equal(new SKColor(0, 255, 255), bitmap.GetPixel(0, 0));
        Assert.Equal(new SKColor(128, 0, 0), bitmap.GetPixel(1, 0));
    }

    [Fact]
    public void Batches_stack_and_split()
    {
        using var a = TestImages.Pattern(5, 4);
        using var b = TestImages.Solid(5, 4, new SKColor(9, 99, 199));
        using var scope = NewDisposeScope();

        var batch = ImageTensors.FromImages([a, b]);
        var back = ImageTensors.ToBitmaps(batch);

        Assert.Equal([2L, 3, 4, 5], batch.shape);
        Assert.Equal(a.GetPixel(3, 2), back[0].GetPixel(3, 2));
        Assert.Equal(b.GetPixel(1, 1), back[1].GetPixel(1, 1));
        foreach (var bitmap in back)
        {
            bitmap.Dispose();
        }
    }

    [Fact]
    public void Mixed_sizes_and_wrong_shapes_are_refused()
    {
        using var a = TestImages.Pattern(5, 4);
        using var b = TestImages.Pattern(4, 5);
        using var scope = NewDisposeScope();

        var error = Assert.Throws<ArgumentException>(() => ImageTensors.FromImages([a, b]));
        Assert.Contains("image 1 is 4x5", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ImageTensors.ToBitmap(zeros(4, 2, 2)));
        Assert.Throws<ArgumentException>(() => ImageTensors.ToBitmaps(zeros(3, 2, 2)));
    }
}
