namespace SdTune.ToyWorld.Pretraining;

/// <summary>What a pretraining run did, written next to the model as <see cref="ToyPretraining.ReportFileName"/>.</summary>
/// <param name="Seed">The seed.</param>
/// <param name="Stages">The VAE stage, then the UNet + text-encoder stage (and any stage a continued run added).</param>
/// <param name="LatentScalingFactor">The VAE scaling factor measured after the VAE stage.</param>
/// <param name="Parameters">Parameter counts by component (unet, vae, text_encoder).</param>
/// <param name="TotalSeconds">Wall-clock time of the whole run, data and saving included (for a continued model, the earlier stages' times plus this run).</param>
/// <param name="Threads">Torch intra-op threads used.</param>
/// <param name="VaeRoundTrip">How often the evaluator reads held-out pictures right after a VAE round trip (the ceiling of the model).</param>
public sealed record ToyPretrainingReport(long Seed, IReadOnlyList<ToyStageResult> Stages, double LatentScalingFactor, IReadOnlyDictionary<string, long> Parameters,
    double TotalSeconds, int Threads, ToyAccuracy VaeRoundTrip);
