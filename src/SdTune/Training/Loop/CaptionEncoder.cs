using System.Globalization;
using SdTune.Conditioning;
using SdTune.Models;
using SdTune.Training.Caching;
using SdTune.Training.Data;
using static TorchSharp.torch;

namespace SdTune.Training.Loop;

/// <summary>
/// A batch's captions as the UNet's conditioning, through <see cref="TextConditioner"/>: captions are plain text (as
/// kohya's trainers read them), SDXL adds the pooled embedding and each sample's size/crop time ids. With gradients
/// only while the method trains a text encoder; with a frozen one and <c>cache_text_encoder_outputs</c> each distinct
/// caption is encoded once (eval mode, no gradients: exactly what encoding every step would give).
/// </summary>
internal sealed class CaptionEncoder(StableDiffusionModel model, ITrainingMethod method, TrainingConfig config) : IDisposable
{
    // The random stream of the method's caption rewriting (distinct from the dataset's streams).
    private const long CaptionStream = 6;
    private readonly TextConditioner conditioner = TextConditioner.ForModel(model, config.ClipSkip);
    private TextEncoderOutputCache? cache;

    /// <summary>The conditioning of <paramref name="batch"/> at optimizer step <paramref name="step"/>, in the UNet's dtype.</summary>
    public UNetConditioning Encode(TrainingBatch batch, long step)
    {
        var captions = batch.Samples.Select((s, i) => method.TrainingCaption(s.Caption, SeededRandom.For(config.Seed, CaptionStream, step, batch.Index, i))).ToList();
        var sizes = batch.Samples.Select(s => Size(s.Conditioning)).ToList();
        var unetType = model.Unet.parameters().First().dtype;
        if (!method.TrainsTextEncoder && config.CacheTextEncoderOutputs)
        {
            cache ??= CreateCache();
            return TextConditioner.ForUnet(TextConditioning.Batch([.. captions.Select(c => TextConditioning.FromTensors(cache.Get(c)))]), sizes, unetType);
        }

        using var noGrad = method.TrainsTextEncoder ? null : no_grad();
        return TextConditioner.ForUnet(conditioner.EncodeCaptions(captions), sizes, unetType);
    }

    public void Dispose() => cache?.Dispose();

    private TextEncoderOutputCache CreateCache()
    {
        var encoders = conditioner.Encoders;
        var fingerprint = encoders.Count == 1
            ? ModelFingerprint.Compute(encoders[0].Encoder, "te")
            : string.Concat(encoders.Select((e, i) => ModelFingerprint.Compute(e.Encoder, "te" + (i + 1).ToString(CultureInfo.InvariantCulture))));
        var tokenizer = model.Tokenizer.Padding + "/" + model.Tokenizer.VocabSize.ToString(CultureInfo.InvariantCulture);
        return new TextEncoderOutputCache(tokenizer, fingerprint, conditioner.ClipSkip, caption => conditioner.EncodeCaptions([caption]).ToTensors());
    }

    private static SizeConditioning Size(SdxlConditioning c) =>
        new(c.OriginalSize.Height, c.OriginalSize.Width, c.CropTop, c.CropLeft, c.TargetSize.Height, c.TargetSize.Width);
}
