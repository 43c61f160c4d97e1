namespace SdTune.Training;

/// <summary>One image for an <see cref="ISampleImageGenerator"/> to make and write.</summary>
/// <param name="Prompt">What to generate; <see cref="SamplePrompt.Seed"/> is always set.</param>
/// <param name="OutputPath">The PNG file to write (its folder exists).</param>
public sealed record SampleImageJob(SamplePrompt Prompt, string OutputPath);
