using SdTune.Imaging;
using TorchSharp;

namespace SdTune.Training.Data;

/// <summary>
/// The <see cref="IImageReader"/> on SdTune's imaging code: upright (EXIF) RGB decode, Lanczos resize, crop,
/// optional horizontal flip, as a [3, H, W] tensor in [-1, 1]. Unreadable images fail naming the file.
/// </summary>
public sealed class ImageFileReader : IImageReader
{
    /// <inheritdoc/>
    public PixelSize Probe(string path)
    {
        try
        {
            var (width, height) = ImageFile.Probe(path);
            return new PixelSize(width, height);
        }
        catch (ImageLoadException e)
        {
            throw new DatasetException(path, e.Message);
        }
    }

    /// <inheritdoc/>
    public torch.Tensor Load(string path, PixelSize resizeTo, PixelRect crop, bool flipHorizontal)
    {
        if (crop.Left < 0 || crop.Top < 0 || crop.Width < 1 || crop.Height < 1
            || crop.Left + crop.Width > resizeTo.Width || crop.Top + crop.Height > resizeTo.Height)
        {
            throw new ArgumentOutOfRangeException(nameof(crop), $"{path}: crop {crop} lies outside the resized image {resizeTo}.");
        }

        SkiaSharp.SKBitmap decoded;
        try
        {
            decoded = ImageFile.Load(path);
        }
        catch (ImageLoadException e)
        {
            throw new DatasetException(path, e.Message);
        }

        using (decoded)
        using (var resized = decoded.Width == resizeTo.Width && decoded.Height == resizeTo.Height ? decoded.Copy() : ImageResize.Resize(decoded, resizeTo.Width, resizeTo.Height))
        using (var cropped = ImageCrop.Crop(resized, crop.Left, crop.Top, crop.Width, crop.Height))
        {
            var image = ImageTensors.FromImage(cropped);
            if (!flipHorizontal)
            {
                return image;
            }

            var flipped = image.flip(2);
            image.Dispose();
            return flipped;
        }
    }
}
