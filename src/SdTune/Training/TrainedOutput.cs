using SdTune.Pipelines;

namespace SdTune.Training;

/// <summary>
/// How a method's saved output is used at inference: loaded as the model itself (a fine-tuned checkpoint), or applied
/// on top of the base model by changing the generation request (a LoRA file added to <see cref="GenerationRequest.Loras"/>).
/// The concept benchmark scores outputs this way, and <c>sdtune train</c> prints the matching <c>generate</c> usage.
/// </summary>
public sealed record TrainedOutput
{
    private TrainedOutput(Func<GenerationRequest, string, GenerationRequest>? apply, string usage)
    {
        Apply = apply;
        Usage = usage;
    }

    /// <summary>The output is a whole model: generate with it as <c>--model</c>.</summary>
    public static TrainedOutput Model { get; } = new(null, "sdtune generate --model {0}");

    /// <summary>
    /// Applied on the base model: the request a generation with the output at <c>path</c> makes of a plain request
    /// (the output path is the second argument).
    /// </summary>
    public Func<GenerationRequest, string, GenerationRequest>? Apply { get; }

    /// <summary>The <c>sdtune generate</c> usage, with <c>{0}</c> for the output path.</summary>
    public string Usage { get; }

    /// <summary>Whether the output is applied on top of a base model rather than loaded as one.</summary>
    public bool IsAppliedToBase => Apply is not null;

    /// <summary>An output applied on top of the base model by <paramref name="apply"/>.</summary>
    /// <param name="apply">Returns the request with the output (at the path given) applied.</param>
    /// <param name="usage">The <c>sdtune generate</c> usage, with <c>{0}</c> for the output path.</param>
    public static TrainedOutput AppliedToBase(Func<GenerationRequest, string, GenerationRequest> apply, string usage)
    {
        ArgumentNullException.ThrowIfNull(apply);
        return new(apply, usage);
    }
}
