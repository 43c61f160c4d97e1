using System.Text.RegularExpressions;
using SdTune.Checkpoints.Safetensors;

namespace SdTune.Pipelines;

/// <summary>
/// The embeddings that belong to a LoRA file (pivotal tuning): <c>NAME_emb.safetensors</c> (or <c>.pt</c>) beside
/// <c>NAME.safetensors</c> is loaded whenever the LoRA is applied, named <c>NAME_emb</c> in prompts as in A1111; when the
/// embeddings file records the words it was trained for (<see cref="AbstractionMetadataKey"/>), those words in the
/// prompt stand for it too.
/// </summary>
public static class LoraEmbeddings
{
    /// <summary>The safetensors metadata key of an embeddings file listing its abstraction words, comma-separated.</summary>
    public const string AbstractionMetadataKey = "sdtune_token_abstraction";

    private static readonly string[] Extensions = [".safetensors", ".pt"];

    /// <summary>The embeddings file beside a LoRA file, or null when there is none.</summary>
    /// <param name="loraPath">The LoRA file.</param>
    public static string? Beside(string loraPath)
    {
        ArgumentNullException.ThrowIfNull(loraPath);
        var stem = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(loraPath))!, Path.GetFileNameWithoutExtension(loraPath) + "_emb");
        return Extensions.Select(e => stem + e).FirstOrDefault(File.Exists);
    }

    /// <summary>The abstraction words an embeddings file records (none for files without the key, or not safetensors).</summary>
    /// <param name="embeddingPath">The embeddings file.</param>
    public static IReadOnlyList<string> Abstractions(string embeddingPath)
    {
        if (!embeddingPath.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            return [];
        }

        using var file = SafetensorsFile.Open(embeddingPath);
        return file.Metadata.TryGetValue(AbstractionMetadataKey, out var words)
            ? words.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : [];
    }

    /// <summary>Replaces each whole-word occurrence of <paramref name="words"/> in <paramref name="text"/> by <paramref name="name"/>.</summary>
    public static string ReplaceWords(string text, IReadOnlyList<string> words, string name)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(words);
        foreach (var word in words.OrderByDescending(w => w.Length))
        {
            text = Regex.Replace(text, $@"(?<![\w<]){Regex.Escape(word)}(?![\w>])", name.Replace("$", "$$", StringComparison.Ordinal), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }

        return text;
    }
}
