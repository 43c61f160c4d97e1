using SkiaSharp;
using static TorchSharp.torch;

namespace SdTune.Imaging;

/// <summary>
/// Converts between bitmaps and the image tensors the VAE works with: float32 (3, H, W) or (B, 3, H, W), RGB,
/// values in [-1, 1].
/// <para>
/// To a tensor: <c>2 * (byte / 255) - 1</c> in float32, as diffusers' <c>VaeImageProcessor</c> preprocesses.
/// To a bitmap: <c>clamp(x / 2 + 0.5, 0, 1) * 255</c> in float32, rounded half to even, as diffusers'
/// <c>postprocess</c> + <c>numpy_to_pil</c> do (<c>(images * 255).round()</c>; NumPy rounds half to even). A1111
/// truncates instead of rounding, so its PNGs can be one level darker on some pixels. Every byte survives
/// <see cref="FromImage(SKBitmap)"/> followed by <see cref="ToBitmap"/> unchanged.
/// </para>
/// </summary>
public static class ImageTensors
{
    /// <summary>The image as a float32 tensor (3, H, W) in [-1, 1]; transparency is composited onto white.</summary>
    public static Tensor FromImage(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        var rgba = BitmapPixels.ReadOpaqueRgba(bitmap);
        var width = bitmap.Width;
        var height = bitmap.Height;
        var plane = width * height;
        var values = new float[3 * plane];
        for (var i = 0; i < plane; i++)
        {
            values[i] = ToUnit(rgba[4 * i]);
            values[plane + i] = ToUnit(rgba[(4 * i) + 1]);
            values[(2 * plane) + i] = ToUnit(rgba[(4 * i) + 2]);
        }

        return tensor(values, [3L, height, width]);
    }

    /// <summary>
    /// The image as a float32 tensor (3, H, W) in [0, 1] (<c>byte / 255</c>): the range diffusers gives ControlNets
    /// and T2I-Adapters their conditioning images in (its control image processor does not normalise).
    /// </summary>
    public static Tensor FromImageUnitRange(SKBitmap bitmap)
    {
        ArgumentNullException.ThrowIfNull(bitmap);
        var rgba = BitmapPixels.ReadOpaqueRgba(bitmap);
        var plane = bitmap.Width * bitmap.Height;
        var values = new float[3 * plane];
        for (var i = 0; i < plane; i++)
        {
            for (var c = 0; c < 3; c++)
            {
                values[(c * plane) + i] = rgba[(4 * i) + c] / 255f;
            }
        }

        return tensor(values, [3L, bitmap.Height, bitmap.Width]);
    }

    /// <summary>Loads an image file (see <see cref="ImageFile.Load"/>) as a float32 tensor (3, H, W) in [-1, 1].</summary>
    /// <exception cref="ImageLoadException">The file is missing or not a readable image.</exception>
    public static Tensor FromImage(string path)
    {
        using var bitmap = ImageFile.Load(path);
        return FromImage(bitmap);
    }

    /// <summary>Stacks same-sized images into a float32 batch (B, 3, H, W) in [-1, 1].</summary>
    public static Tensor FromImages(IReadOnlyList<SKBitmap> bitmaps)
    {
        ArgumentNullException.ThrowIfNull(bitmaps);
        if (bitmaps.Count == 0)
        {
            throw new ArgumentException("A batch needs at least one image.", nameof(bitmaps));
        }

        for (var i = 1; i < bitmaps.Count; i++)
        {
            if (bitmaps[i].Width != bitmaps[0].Width || bitmaps[i].Height != bitmaps[0].Height)
            {
                throw new ArgumentException(
                    $"Images in a batch must have one size: image 0 is {bitmaps[0].Width}x{bitmaps[0].Height}, image {i} is {bitmaps[i].Width}x{bitmaps[i].Height}.",
                    nameof(bitmaps));
            }
        }

        using var scope = NewDisposeScope();
        var items = bitmaps.Select(FromImage).ToArray();
        return stack(items).MoveToOuterDisposeScope();
    }

    /// <summary>Converts a tensor (3, H, W) in [-1, 1] (any float dtype, any device) to an opaque RGB bitmap.</summary>
    public static SKBitmap ToBitmap(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.dim() != 3 || image.shape[0] != 3)
        {
            throw new ArgumentException($"Expected an image tensor of shape (3, H, W), got [{string.Join(", ", image.shape)}].", nameof(image));
        }

        if (!image.is_floating_point())
        {
            throw new ArgumentException($"Expected a floating-point image tensor in [-1, 1], got {image.dtype}.", nameof(image));
        }

        var height = (int)image.shape[1];
        var width = (int)image.shape[2];
        float[] values;
        using (var scope = NewDisposeScope())
        {
            values = image.detach().to(ScalarType.Float32).cpu().contiguous().data<float>().ToArray();
        }

        var plane = width * height;
        var rgba = new byte[4 * plane];
        for (var i = 0; i < plane; i++)
        {
            rgba[4 * i] = ToByte(values[i]);
            rgba[(4 * i) + 1] = ToByte(values[plane + i]);
            rgba[(4 * i) + 2] = ToByte(values[(2 * plane) + i]);
            rgba[(4 * i) + 3] = 255;
        }

        return BitmapPixels.CreateOpaque(width, height, rgba);
    }

    /// <summary>Converts a batch (B, 3, H, W) in [-1, 1] to B bitmaps.</summary>
    public static IReadOnlyList<SKBitmap> ToBitmaps(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || images.shape[1] != 3)
        {
            throw new ArgumentException($"Expected an image batch of shape (B, 3, H, W), got [{string.Join(", ", images.shape)}].", nameof(images));
        }

        var result = new SKBitmap[images.shape[0]];
        for (var i = 0; i < result.Length; i++)
        {
            using var item = images[i];
            result[i] = ToBitmap(item);
        }

        return result;
    }

    private static float ToUnit(byte value) => (2f * (value / 255f)) - 1f;

    private static byte ToByte(float value)
    {
        // NaN maps to 0 rather than to an undefined cast.
        var unit = float.IsNaN(value) ? 0f : Math.Clamp((value / 2f) + 0.5f, 0f, 1f);
        return (byte)MathF.Round(unit * 255f, MidpointRounding.ToEven);
    }
}
