namespace SdTune.Prompts;

/// <summary>A prompt contains a construct that cannot be interpreted (for example a malformed number in a tag or weight).</summary>
/// <param name="message">What is wrong, quoting the offending part of the prompt.</param>
public sealed class PromptSyntaxException(string message) : FormatException(message);
