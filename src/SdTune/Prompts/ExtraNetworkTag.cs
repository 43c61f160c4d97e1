namespace SdTune.Prompts;

/// <summary>
/// One <c>&lt;kind:name:arg:…&gt;</c> tag found in a prompt. Arguments are separated by colons; an argument with exactly
/// one <c>=</c> is named (<c>te=0.5</c>), every other argument is positional.
/// </summary>
/// <param name="Kind">The tag's kind, e.g. <c>lora</c> or <c>hypernet</c> (case as written).</param>
/// <param name="Items">Every colon-separated argument as written, name first.</param>
/// <param name="Positional">The positional arguments, the network's name first.</param>
/// <param name="Named">The named arguments in order of appearance (a repeated name keeps its last value).</param>
public sealed record ExtraNetworkTag(
    string Kind,
    IReadOnlyList<string> Items,
    IReadOnlyList<string> Positional,
    IReadOnlyDictionary<string, string> Named)
{
    /// <summary>The network's name: the first positional argument, or empty when the tag has none.</summary>
    public string Name => Positional.Count > 0 ? Positional[0] : string.Empty;

    /// <summary>The positional arguments after the name.</summary>
    public IReadOnlyList<string> Arguments => Positional.Count > 1 ? [.. Positional.Skip(1)] : [];

    /// <summary>The tag as it can be written back into a prompt.</summary>
    /// <returns>For example <c>&lt;lora:style:0.8&gt;</c>.</returns>
    public override string ToString() => $"<{Kind}:{string.Join(':', Items)}>";
}
