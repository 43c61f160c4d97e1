namespace SdTune.Prompts;

/// <summary>A hypernetwork reference in a prompt: <c>&lt;hypernet:NAME[:MULTIPLIER]&gt;</c>.</summary>
/// <param name="Name">The hypernetwork's name (file stem).</param>
/// <param name="Multiplier">The strength; 1.0 when not written.</param>
public sealed record HypernetTag(string Name, double Multiplier)
{
    /// <summary>The tag kind that names a hypernetwork.</summary>
    public const string Kind = "hypernet";

    /// <summary>Reads a hypernetwork tag's arguments (the first two, as written; named arguments are not used).</summary>
    /// <param name="tag">A tag whose kind is <c>hypernet</c>.</param>
    /// <returns>The typed reference.</returns>
    /// <exception cref="PromptSyntaxException">The tag has no name or the multiplier is not a number.</exception>
    public static HypernetTag FromTag(ExtraNetworkTag tag)
    {
        ArgumentNullException.ThrowIfNull(tag);
        if (tag.Kind != Kind)
        {
            throw new ArgumentException($"Tag {tag} is not a hypernetwork tag.", nameof(tag));
        }

        if (tag.Items.Count == 0 || tag.Items[0].Length == 0)
        {
            throw new PromptSyntaxException($"Hypernetwork tag {tag} has no name.");
        }

        double multiplier = 1.0;
        if (tag.Items.Count > 1 && !PythonText.TryParseFloat(tag.Items[1], out multiplier))
        {
            throw new PromptSyntaxException($"Hypernetwork tag {tag}: multiplier '{tag.Items[1]}' is not a number.");
        }

        return new HypernetTag(tag.Items[0], multiplier);
    }
}
