using System.Globalization;
using SdTune.Conditioning;
using SdTune.Models;
using SdTune.Training.Data;
using static TorchSharp.torch;

namespace SdTune.Training.Caching;

/// <summary>
/// The UNet conditioning of a training batch: its captions as plain text through <see cref="TextConditioner"/> (with
/// gradients only when the method trains the text encoder), SDXL's pooled embedding and each sample's size/crop time
/// ids. With a frozen text encoder and <c>cache_text_encoder_outputs</c>, each distinct caption is encoded once (eval
/// mode, no gradients, so the outputs are exactly what encoding every step would give).
/// </summary>
internal sealed class CaptionConditioning : IDisposable
{
    private readonly StableDiffusionModel model;
    private readonly TextConditioner conditioner;
    private readonly bool trainsTextEncoder;
    private readonly bool cacheOutputs;
    private TextEncoderOutputCache? cache;

    /// <summary>Creates the conditioning of a run.</summary>
    /// <param name="model">The model being trained.</param>
    /// <param name="clipSkip">The configured clip skip; null for the model's default.</param>
    /// <param name="trainsTextEncoder">Whether the method trains the text encoder (or an adapter on it).</param>
    /// <param name="cacheOutputs"><c>cache_text_encoder_outputs</c> (used only with a frozen text encoder).</param>
    public CaptionConditioning(StableDiffusionModel model, int? clipSkip, bool trainsTextEncoder, bool cacheOutputs)
    {
        this.model = model;
        conditioner = TextConditioner.ForModel(model, clipSkip);
        this.trainsTextEncoder = trainsTextEncoder;
        this.cacheOutputs = cacheOutputs && !trainsTextEncoder;
    }

    /// <summary>The conditioning of <paramref name="batch"/>, in the UNet's dtype.</summary>
    public UNetConditioning Encode(TrainingBatch batch)
    {
        var captions = batch.Samples.Select(s => s.Caption).ToList();
        var sizes = batch.Samples.Select(s => Size(s.Conditioning)).ToList();
        var unetType = model.Unet.parameters().First().dtype;
        if (cacheOutputs)
        {
            cache ??= CreateCache();
            return TextConditioner.ForUnet(TextConditioning.Batch([.. captions.Select(c => TextConditioning.FromTensors(cache.Get(c)))]), sizes, unetType);
        }

        using var noGrad = trainsTextEncoder ? null : no_grad();
        return TextConditioner.ForUnet(conditioner.EncodeCaptions(captions), sizes, unetType);
    }

    /// <inheritdoc />
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
