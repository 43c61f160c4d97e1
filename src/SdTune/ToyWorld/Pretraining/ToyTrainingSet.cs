using SdTune.Imaging;
using static TorchSharp.torch;

namespace SdTune.ToyWorld.Pretraining;

/// <summary>
/// The pretraining pictures in memory: <c>count</c> training-split scenes (a share of them patterned, see
/// <see cref="ToyWorldGenerator.PretrainingScene"/>) rendered once as a (N, 3, S, S) tensor in
/// [-1, 1] (their captions are written beside the pictures for the trainer, see <see cref="ToyFineTuneStage"/>).
/// </summary>
internal sealed class ToyTrainingSet : IDisposable
{
    private ToyTrainingSet(Tensor images, Tensor vaeOnlyImages)
    {
        Images = images;
        VaeOnlyImages = vaeOnlyImages;
    }

    public Tensor Images { get; }

    /// <summary>
    /// Pictures only the VAE sees: the scenes of <see cref="Images"/> redrawn with a random pattern (stripes, dots,
    /// checks, halves) and second colour. A VAE is a general image codec — SD's was trained on far more than the
    /// concepts its UNet knows — and a VAE that only ever saw solid shapes cannot encode a new patterned subject at all,
    /// so no fine-tuning method could learn one. The UNet and text encoder never see these pictures.
    /// </summary>
    public Tensor VaeOnlyImages { get; }

    public long Count => Images.shape[0];

    public static ToyTrainingSet Create(ToyWorldGenerator generator, int count, int vaeOnlyCount = 0, double patternedShare = 0)
    {
        var size = generator.ImageSize;
        var vaeOnly = RenderPatterned(generator, count, vaeOnlyCount);
        var pixels = new byte[(long)count * 3 * size * size];
        var plane = size * size;
        for (var i = 0; i < count; i++)
        {
            var scene = generator.PretrainingScene(i, patternedShare);
            using (var bitmap = generator.Render(scene))
            {
                var rgba = BitmapPixels.ReadOpaqueRgba(bitmap);
                var o = (long)i * 3 * plane;
                for (var p = 0; p < plane; p++)
                {
                    pixels[o + p] = rgba[4 * p];
                    pixels[o + plane + p] = rgba[(4 * p) + 1];
                    pixels[o + (2 * plane) + p] = rgba[(4 * p) + 2];
                }
            }
        }

        var images = tensor(pixels, [count, 3, size, size]).to(ScalarType.Float32).div_(127.5f).sub_(1f);
        return new ToyTrainingSet(images, vaeOnly);
    }

    private static Tensor RenderPatterned(ToyWorldGenerator generator, int offset, int count)
    {
        var random = Training.Data.SeededRandom.For(generator.Seed, 0x9A77);
        var patterns = Enum.GetValues<ToyPattern>().Where(p => p != ToyPattern.Solid).ToArray();
        var bitmaps = new List<SkiaSharp.SKBitmap>(count);
        for (var i = 0; i < count; i++)
        {
            bitmaps.Add(generator.Render(ToyWorldGenerator.Patterned(generator.Scene(offset + i), patterns, random)));
        }

        try
        {
            return count == 0 ? zeros(0, 3, generator.ImageSize, generator.ImageSize) : ImageTensors.FromImages(bitmaps);
        }
        finally
        {
            bitmaps.ForEach(b => b.Dispose());
        }
    }

    public void Dispose()
    {
        Images.Dispose();
        VaeOnlyImages.Dispose();
    }
}
