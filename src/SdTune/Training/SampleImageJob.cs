using SdTune.Pipelines.Control;

namespace SdTune.Training;

/// <summary>One image for an <see cref="ISampleImageGenerator"/> to make and write.</summary>
/// <param name="Prompt">What to generate; <see cref="SamplePrompt.Seed"/> is always set.</param>
/// <param name="OutputPath">The PNG file to write (its folder exists).</param>
/// <param name="Controls">ControlNets and T2I-Adapters to generate with (the one being trained); none by default.</param>
public sealed record SampleImageJob(SamplePrompt Prompt, string OutputPath, IReadOnlyList<ControlRequest>? Controls = null);
