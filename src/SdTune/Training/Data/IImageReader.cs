using TorchSharp;

namespace SdTune.Training.Data;

/// <summary>What the data layer needs from image decoding: sizes for bucketing and training tensors.</summary>
public interface IImageReader
{
    /// <summary>Reads an image's size as displayed, that is after its EXIF orientation is applied, without decoding pixels.</summary>
    /// <param name="path">The image file.</param>
    /// <returns>Width and height after orientation.</returns>
    /// <exception cref="DatasetException">The file is missing, corrupt or not an image; the message names it.</exception>
    PixelSize Probe(string path);

    /// <summary>
    /// Decodes an image for training: applies EXIF orientation, resizes to <paramref name="resizeTo"/>, keeps
    /// <paramref name="crop"/> (in resized pixels), mirrors it when <paramref name="flipHorizontal"/>, and converts to RGB.
    /// </summary>
    /// <param name="path">The image file.</param>
    /// <param name="resizeTo">The size to resize the (oriented) image to.</param>
    /// <param name="crop">The rectangle of the resized image to keep.</param>
    /// <param name="flipHorizontal">Mirror left-right after cropping.</param>
    /// <returns>A float32 tensor of shape [3, crop.Height, crop.Width] with values in [-1, 1].</returns>
    /// <exception cref="DatasetException">The file is missing, corrupt or not an image; the message names it.</exception>
    torch.Tensor Load(string path, PixelSize resizeTo, PixelRect crop, bool flipHorizontal);
}
