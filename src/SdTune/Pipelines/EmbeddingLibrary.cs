using SdTune.Checkpoints.Embeddings;
using SdTune.IO;
using SdTune.Conditioning;
using SdTune.Prompts;
using SdTune.Text;

namespace SdTune.Pipelines;

/// <summary>
/// The textual-inversion embeddings of a folder, referenced in prompts by file name (A1111's convention).
/// Files that are not embeddings, or whose width does not fit the model, are skipped with a warning naming
/// the file — as A1111 does — rather than failing the generation.
/// </summary>
public sealed class EmbeddingLibrary : IEmbeddingVectors, IDisposable
{
    private static readonly string[] Extensions = [".pt", ".bin", ".safetensors"];
    private readonly Dictionary<string, TextualInversionEmbedding> byName = new(StringComparer.Ordinal);
    private readonly List<TextualInversionEmbedding> owned = [];

    private EmbeddingLibrary()
    {
    }

    /// <summary>Lookup of embedding names in token sequences (longest name first).</summary>
    public EmbeddingTokenIndex Index { get; } = new();

    /// <summary>Loaded embeddings by name.</summary>
    public IReadOnlyDictionary<string, TextualInversionEmbedding> Embeddings => byName;

    /// <inheritdoc />
    public TorchSharp.torch.Tensor VectorsFor(string name, string encoderKey) =>
        byName[name].VectorsFor(encoderKey) ?? throw new ArgumentException($"Embedding '{name}' has no vectors for the encoder '{encoderKey}'.", nameof(encoderKey));

    /// <summary>An empty library.</summary>
    public static EmbeddingLibrary Empty { get; } = new();

    /// <summary>Loads every embedding file under <paramref name="folder"/> (recursively).</summary>
    /// <param name="folder">The embeddings folder.</param>
    /// <param name="tokenizer">Tokenizes the names for the prompt lookup.</param>
    /// <param name="expectedWidths">The model's width per encoder key (<c>default</c>: 768 SD1 / 1024 SD2; <c>clip_l</c> 768 + <c>clip_g</c> 1280 SDXL).</param>
    /// <param name="warn">Receives one line per skipped file.</param>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static EmbeddingLibrary Load(string folder, ClipTokenizer tokenizer, IReadOnlyDictionary<string, long> expectedWidths, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(expectedWidths);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"{folder}: embeddings folder not found.");
        }

        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()) && new FileInfo(f).Length > 0)
            .Order(StringComparer.Ordinal);
        var library = new EmbeddingLibrary();
        foreach (var file in files)
        {
            library.TryAdd(file, tokenizer, expectedWidths, warn);
        }

        return library;
    }

    /// <summary>
    /// This library plus the embedding files of one generation (a file, or a diffusers folder with
    /// <c>learned_embeds.safetensors</c>); a file's name overrides an embedding of the same name in the folder. Files
    /// that do not fit are skipped with a warning, as in the folder. Disposing the result frees only the added files.
    /// </summary>
    /// <param name="files">The embedding files.</param>
    /// <param name="tokenizer">Tokenizes the names for the prompt lookup.</param>
    /// <param name="expectedWidths">The model's width per encoder key.</param>
    /// <param name="warn">Receives one line per skipped file.</param>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    public EmbeddingLibrary With(IReadOnlyList<string> files, ClipTokenizer tokenizer, IReadOnlyDictionary<string, long> expectedWidths, Action<string>? warn = null)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(expectedWidths);
        var added = new EmbeddingLibrary();
        try
        {
            foreach (var file in files)
            {
                if (!File.Exists(file) && !Directory.Exists(file))
                {
                    throw new FileNotFoundException($"{file}: embedding file not found.", file);
                }

                added.TryAdd(file, tokenizer, expectedWidths, warn);
            }

            foreach (var (name, embedding) in byName.Where(e => !added.byName.ContainsKey(e.Key)))
            {
                added.byName.Add(name, embedding);
                added.Index.Add(name, tokenizer.Encode(name), (int)embedding.VectorCount);
            }
        }
        catch
        {
            added.Dispose();
            throw;
        }

        return added;
    }

    private void TryAdd(string file, ClipTokenizer tokenizer, IReadOnlyDictionary<string, long> expectedWidths, Action<string>? warn)
    {
        TextualInversionEmbedding embedding;
        try
        {
            embedding = TextualInversionFile.Load(file);
        }
        catch (CheckpointFormatException e)
        {
            warn?.Invoke($"skipping embedding {e.Message}");
            return;
        }

        var fits = expectedWidths.All(w => embedding.VectorsFor(w.Key) is { } v && v.shape[1] == w.Value);
        string? problem = !fits
            ? $"its width {embedding.Width} ({string.Join(", ", embedding.Vectors.Select(v => $"{v.Key} {v.Value.shape[1]}"))}) does not fit this model ({string.Join(", ", expectedWidths.Select(w => $"{w.Key} {w.Value}"))})."
            : embedding.VectorCount > PromptChunker.ChunkLength ? $"{embedding.VectorCount} vectors do not fit in one 75-token chunk."
            : byName.ContainsKey(embedding.Name) ? $"another file already defines '{embedding.Name}'."
            : null;
        if (problem is not null)
        {
            warn?.Invoke($"skipping embedding {file}: {problem}");
            embedding.Dispose();
            return;
        }

        byName.Add(embedding.Name, embedding);
        owned.Add(embedding);

        Index.Add(embedding.Name, tokenizer.Encode(embedding.Name), (int)embedding.VectorCount);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var embedding in owned)
        {
            embedding.Dispose();
        }

        owned.Clear();
        byName.Clear();
    }
}
