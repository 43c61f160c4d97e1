using SdTune.Imaging;
using SdTune.Text;
using static TorchSharp.torch;

namespace SdTune.ToyWorld.Pretraining;

/// <summary>
/// The pretraining pictures in memory: <c>count</c> training-split scenes rendered once as a (N, 3, S, S) tensor in
/// [-1, 1], and each scene's caption tokenised in every <see cref="ToyCaptionStyle"/> (N, styles, 77), plus the
/// empty prompt used for caption dropout.
/// </summary>
internal sealed class ToyTrainingSet : IDisposable
{
    private static readonly ToyCaptionStyle[] Styles = Enum.GetValues<ToyCaptionStyle>();

    private ToyTrainingSet(Tensor images, Tensor tokens, Tensor emptyTokens, Tensor vaeOnlyImages)
    {
        Images = images;
        VaeOnlyImages = vaeOnlyImages;
        Tokens = tokens;
        EmptyTokens = emptyTokens;
    }

    public Tensor Images { get; }

    public Tensor Tokens { get; }

    /// <summary>
    /// Pictures only the VAE sees: the scenes of <see cref="Images"/> redrawn with a random pattern (stripes, dots,
    /// checks, halves) and second colour. A VAE is a general image codec — SD's was trained on far more than the
    /// concepts its UNet knows — and a VAE that only ever saw solid shapes cannot encode a new patterned subject at all,
    /// so no fine-tuning method could learn one. The UNet and text encoder never see these pictures.
    /// </summary>
    public Tensor VaeOnlyImages { get; }

    public Tensor EmptyTokens { get; }

    public long Count => Images.shape[0];

    public static int StyleCount => Styles.Length;

    public static ToyTrainingSet Create(ToyWorldGenerator generator, ClipTokenizer tokenizer, int count, int vaeOnlyCount = 0)
    {
        var size = generator.ImageSize;
        var vaeOnly = RenderPatterned(generator, count, vaeOnlyCount);
        var pixels = new byte[(long)count * 3 * size * size];
        var ids = new long[(long)count * Styles.Length * ClipTokenizer.DefaultMaxLength];
        var plane = size * size;
        for (var i = 0; i < count; i++)
        {
            var scene = generator.Scene(i);
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

            for (var s = 0; s < Styles.Length; s++)
            {
                var tokens = tokenizer.EncodeForModel(scene.ToCaption(Styles[s])).InputIds;
                var o = ((long)i * Styles.Length + s) * ClipTokenizer.DefaultMaxLength;
                for (var t = 0; t < tokens.Count; t++)
                {
                    ids[o + t] = tokens[t];
                }
            }
        }

        var images = tensor(pixels, [count, 3, size, size]).to(ScalarType.Float32).div_(127.5f).sub_(1f);
        var empty = tokenizer.EncodeForModel(string.Empty).InputIds.Select(t => (long)t).ToArray();
        return new ToyTrainingSet(images, tensor(ids, [count, Styles.Length, ClipTokenizer.DefaultMaxLength]), tensor(empty, [1, empty.Length]), vaeOnly);
    }

    private static Tensor RenderPatterned(ToyWorldGenerator generator, int offset, int count)
    {
        var random = Training.Data.SeededRandom.For(generator.Seed, 0x9A77);
        var patterns = Enum.GetValues<ToyPattern>().Where(p => p != ToyPattern.Solid).ToArray();
        var colors = Enum.GetValues<ToyColor>();
        var bitmaps = new List<SkiaSharp.SKBitmap>(count);
        for (var i = 0; i < count; i++)
        {
            var scene = generator.Scene(offset + i);
            var second = colors.Where(c => c != scene.Color && c != scene.Background).ToArray();
            bitmaps.Add(generator.Render(scene with { Pattern = patterns[random.NextInt(patterns.Length)], SecondColor = second[random.NextInt(second.Length)] }));
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
        Tokens.Dispose();
        EmptyTokens.Dispose();
    }
}
