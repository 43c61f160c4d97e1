namespace SdTune.Prompts;

/// <summary>A prompt with its extra-network tags removed, and the tags; see <see cref="ExtraNetworkTags.Extract"/>.</summary>
/// <param name="Prompt">The prompt with every tag replaced by nothing (surrounding text and whitespace are kept).</param>
/// <param name="Tags">The tags in order of appearance.</param>
public sealed record ExtractedExtraNetworks(string Prompt, IReadOnlyList<ExtraNetworkTag> Tags)
{
    /// <summary>The LoRA tags (<c>&lt;lora:…&gt;</c>, and the <c>&lt;lyco:…&gt;</c> alias), read into typed form.</summary>
    /// <returns>One entry per LoRA tag, in order.</returns>
    /// <exception cref="PromptSyntaxException">A LoRA tag has no name or a malformed number.</exception>
    public IReadOnlyList<LoraTag> Loras() => [.. Tags.Where(LoraTag.IsLoraKind).Select(LoraTag.FromTag)];

    /// <summary>The hypernetwork tags (<c>&lt;hypernet:…&gt;</c>), read into typed form.</summary>
    /// <returns>One entry per hypernetwork tag, in order.</returns>
    /// <exception cref="PromptSyntaxException">A hypernetwork tag has no name or a malformed multiplier.</exception>
    public IReadOnlyList<HypernetTag> Hypernets() =>
        [.. Tags.Where(t => t.Kind == HypernetTag.Kind).Select(HypernetTag.FromTag)];
}
