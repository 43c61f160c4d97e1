namespace SdTune.Prompts;

/// <summary>One entry of a prompt schedule: <see cref="Text"/> is used for every sampling step up to and including <see cref="EndAtStep"/>.</summary>
/// <param name="EndAtStep">The last (1-based) sampling step that uses this text.</param>
/// <param name="Text">The prompt text with all scheduling and alternation resolved (emphasis brackets are kept).</param>
public readonly record struct ScheduledPrompt(int EndAtStep, string Text);
