namespace SdTune.ToyWorld;

/// <summary>Phrasings of a scene's caption, so a text encoder sees varied wording for the same picture.</summary>
public enum ToyCaptionStyle
{
    /// <summary>"a large red star on a blue background, top left".</summary>
    Full,

    /// <summary>"a red star on blue".</summary>
    Short,

    /// <summary>"a large red star on a blue background" (no position).</summary>
    NoPosition,

    /// <summary>"red star, blue background, large, top left" (comma-separated tags).</summary>
    Tags,
}
