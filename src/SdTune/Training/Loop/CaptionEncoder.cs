using System.Globalization;
using SdTune.Models;
using SdTune.Models.Unet;
using SdTune.Training.Caching;
using SdTune.Training.Data;
using static TorchSharp.torch;

namespace SdTune.Training.Loop;

/// <summary>
/// A batch's captions as the UNet's conditioning: the text encoder's hidden states (SD 1.x/2.x), or for SDXL both
/// encoders' penultimate layers side by side, the second's pooled output and each sample's size/crop time ids. With
/// gradients only while the method trains a text encoder; with a frozen one and <c>cache_text_encoder_outputs</c>
/// each distinct caption is encoded once.
/// </summary>
internal sealed class CaptionEncoder(StableDiffusionModel model, ITrainingMethod method, TrainingConfig config) : IDisposable
{
    private TextEncoderOutputCache? cache;

    public (Tensor Hidden, UNetAddedConditions? Added) Encode(TrainingBatch batch)
    {
        if (!method.TrainsTextEncoder && config.CacheTextEncoderOutputs)
        {
            return Cached(batch);
        }

        return EncodeCaptions(batch, batch.Samples.Select(s => s.Caption).ToList());
    }

    public void Dispose() => cache?.Dispose();

    /// <summary>Each distinct caption encoded once (eval mode, no gradients: exactly what encoding every step would give).</summary>
    private (Tensor Hidden, UNetAddedConditions? Added) Cached(TrainingBatch batch)
    {
        if (cache is null)
        {
            var encoders = model.TextEncoder2 is { } te2 ? ModelFingerprint.Compute(model.TextEncoder, "te1") + ModelFingerprint.Compute(te2, "te2") : ModelFingerprint.Compute(model.TextEncoder, "te");
            var tokenizer = model.Tokenizer.Padding + "/" + model.Tokenizer.VocabSize.ToString(CultureInfo.InvariantCulture);
            cache = new TextEncoderOutputCache(tokenizer, encoders, config.ClipSkip ?? (model.TextEncoder2 is null ? 1 : 2), caption =>
            {
                var (hidden, added) = EncodeCaptions(null, [caption]);
                return added is null ? [hidden] : [hidden, added.TextEmbeds];
            });
        }

        var outputs = batch.Samples.Select(s => cache.Get(s.Caption)).ToList();
        var stacked = cat(outputs.Select(o => o[0]).ToList(), 0);
        if (model.TextEncoder2 is null)
        {
            return (stacked, null);
        }

        var unetType = model.Unet.parameters().First().dtype;
        var pooled = cat(outputs.Select(o => o[1]).ToList(), 0).to(unetType);
        return (stacked, new UNetAddedConditions(pooled, TimeIds(batch).to(unetType)));
    }

    private static Tensor TimeIds(TrainingBatch batch) => tensor(batch.Samples.SelectMany(s => new float[]
    {
        s.Conditioning.OriginalSize.Height, s.Conditioning.OriginalSize.Width, s.Conditioning.CropTop, s.Conditioning.CropLeft,
        s.Conditioning.TargetSize.Height, s.Conditioning.TargetSize.Width,
    }).ToArray(), [batch.Samples.Count, 6]);

    private (Tensor Hidden, UNetAddedConditions? Added) EncodeCaptions(TrainingBatch? batch, IReadOnlyList<string> captions)
    {
        using var noGrad = method.TrainsTextEncoder ? null : no_grad();
        if (model.TextEncoder2 is not { } te2)
        {
            var ids = TokenIds(model.Tokenizer, captions);
            return (model.TextEncoder.Encode(ids, config.ClipSkip ?? 1, applyFinalLayerNorm: true).to(ScalarType.Float32), null);
        }

        // SDXL: both encoders' penultimate layers side by side, the second's projected pooled output, and the
        // size/crop conditioning of each sample.
        using var out1 = model.TextEncoder.forward(TokenIds(model.Tokenizer, captions));
        using var out2 = te2.forward(TokenIds(model.Tokenizer2!, captions));
        var skip = config.ClipSkip ?? 2;
        var hidden = cat([
            model.TextEncoder.SelectHiddenState(out1, skip, applyFinalLayerNorm: false).to(ScalarType.Float32),
            te2.SelectHiddenState(out2, skip, applyFinalLayerNorm: false).to(ScalarType.Float32),
        ], -1);
        var pooled = out2.TextEmbeds!.to(ScalarType.Float32);
        var unetType = model.Unet.parameters().First().dtype;
        var timeIds = batch is null ? zeros(captions.Count, 6) : TimeIds(batch);
        return (hidden.alias(), new UNetAddedConditions(pooled.to(unetType), timeIds.to(unetType)));
    }

    private static Tensor TokenIds(Text.ClipTokenizer tokenizer, IReadOnlyList<string> captions)
    {
        var rows = captions.Select(c => tokenizer.EncodeForModel(c).InputIds).ToList();
        var width = rows[0].Count;
        return tensor(rows.SelectMany(r => r.Select(id => (long)id)).ToArray(), [rows.Count, width]);
    }
}
