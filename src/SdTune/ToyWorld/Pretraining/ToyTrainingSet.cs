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

    private ToyTrainingSet(Tensor images, Tensor tokens, Tensor emptyTokens)
    {
        Images = images;
        Tokens = tokens;
        EmptyTokens = emptyTokens;
    }

    public Tensor Images { get; }

    public Tensor Tokens { get; }

    public Tensor EmptyTokens { get; }

    public long Count => Images.shape[0];

    public static int StyleCount => Styles.Length;

    public static ToyTrainingSet Create(ToyWorldGenerator generator, ClipTokenizer tokenizer, int count)
    {
        var size = generator.ImageSize;
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
        return new ToyTrainingSet(images, tensor(ids, [count, Styles.Length, ClipTokenizer.DefaultMaxLength]), tensor(empty, [1, empty.Length]));
    }

    public void Dispose()
    {
        Images.Dispose();
        Tokens.Dispose();
        EmptyTokens.Dispose();
    }
}
