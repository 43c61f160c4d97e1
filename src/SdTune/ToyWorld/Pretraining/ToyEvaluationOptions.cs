namespace SdTune.ToyWorld.Pretraining;

/// <summary>Settings of <see cref="ToyBaseEvaluation"/>.</summary>
public sealed record ToyEvaluationOptions
{
    /// <summary>Also scores patterned prompts: shape × pattern pairs seen in pretraining and those held out.</summary>
    public bool Patterns { get; init; } = true;

    /// <summary>Prompts per set.</summary>
    public int Prompts { get; init; } = 64;

    /// <summary>The sampler (a <see cref="Schedulers.SamplerRegistry"/> name).</summary>
    public string Sampler { get; init; } = "DPM++ 2M";

    /// <summary>Sampling steps.</summary>
    public int Steps { get; init; } = 20;

    /// <summary>Classifier-free guidance scale.</summary>
    public double CfgScale { get; init; } = 6.0;

    /// <summary>Seeds the prompt scenes (a world other than the training one) and, offset by the prompt's index, the noise.</summary>
    public long Seed { get; init; } = 1000;
}
