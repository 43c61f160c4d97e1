using SdTune.Checkpoints.Embeddings;
using SdTune.Conditioning;
using SdTune.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Training.Methods;

/// <summary>
/// New placeholder tokens with trainable embedding rows in every text encoder of a model (SDXL: both, keyed
/// <c>clip_l</c> and <c>clip_g</c>), for the methods that learn words: textual inversion and pivotal tuning. The rows
/// are float32 parameters beside the frozen table, so no other weight can change. Disposing removes the rows and the
/// tokens again, leaving the model as it was.
/// </summary>
internal sealed class NewTokens : IDisposable
{
    private readonly List<(ConditioningEncoder Encoder, Parameter Rows)> rows;
    private readonly List<(Text.ClipTokenizer Tokenizer, string Token)> addedTokens = [];

    private NewTokens(IReadOnlyList<string> tokens)
    {
        Tokens = tokens;
        rows = [];
    }

    /// <summary>The tokens, in id order.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>The trainable rows, one (tokens, width) parameter per encoder.</summary>
    public IReadOnlyList<Parameter> Parameters => [.. rows.Select(r => r.Rows)];

    /// <summary>
    /// Adds <paramref name="tokens"/> to every tokenizer of <paramref name="model"/> and a trainable row per token to
    /// every text encoder, initialised by <paramref name="initialRows"/>.
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="tokens">The new tokens.</param>
    /// <param name="initialRows">(tokens, width) starting vectors for one encoder.</param>
    /// <param name="tokenKey">The configuration key the tokens come from, for errors.</param>
    /// <exception cref="TrainingConfigException">A token is already known to a tokenizer or could never match.</exception>
    public static NewTokens Add(StableDiffusionModel model, IReadOnlyList<string> tokens, Func<ConditioningEncoder, Tensor> initialRows, string tokenKey)
    {
        var encoders = TextConditioner.ForModel(model).Encoders;
        var added = new NewTokens(tokens);
        try
        {
            foreach (var encoder in encoders)
            {
                var tableRows = encoder.Encoder.TokenEmbedding.weight!.shape[0] + (encoder.Encoder.AddedTokenRows?.shape[0] ?? 0);
                if (!added.addedTokens.Any(t => ReferenceEquals(t.Tokenizer, encoder.Tokenizer)))
                {
                    if (encoder.Tokenizer.VocabSize != tableRows)
                    {
                        throw new TrainingConfigException(tokenKey, $"the tokenizer knows {encoder.Tokenizer.VocabSize} tokens but its text encoder has {tableRows} embedding rows, so new tokens cannot be lined up with new rows.");
                    }

                    foreach (var token in tokens)
                    {
                        try
                        {
                            encoder.Tokenizer.AddToken(token);
                            added.addedTokens.Add((encoder.Tokenizer, token));
                        }
                        catch (ArgumentException e)
                        {
                            throw new TrainingConfigException(tokenKey, e.Message.Split(" (Parameter", 2)[0], e);
                        }
                    }
                }

                using var start = initialRows(encoder);
                if (start.shape.Length != 2 || start.shape[0] != tokens.Count || start.shape[1] != encoder.Width)
                {
                    throw new InvalidOperationException($"Starting vectors [{string.Join(", ", start.shape)}] for {tokens.Count} tokens of width {encoder.Width}.");
                }

                added.rows.Add((encoder, encoder.Encoder.AddTokenRows(start.to(ScalarType.Float32))));
            }
        }
        catch
        {
            added.Dispose();
            throw;
        }

        return added;
    }

    /// <summary>The learned vectors as an embedding named <paramref name="name"/> (copies on the CPU, float32).</summary>
    public TextualInversionEmbedding ToEmbedding(string name, long step, string? checkpointName)
    {
        var vectors = rows.ToDictionary(
            r => rows.Count == 1 ? TextualInversionEmbedding.DefaultEncoderKey : r.Encoder.EmbeddingKey,
            r => r.Rows.detach().to(ScalarType.Float32).cpu().clone(),
            StringComparer.Ordinal);
        return new TextualInversionEmbedding(name, vectors, "trained", step, checkpointName);
    }

    /// <summary>The rows for a resumable state, keyed <c>{prefix}{encoder key}</c>.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> State(string prefix) =>
        rows.Select(r => new KeyValuePair<string, Tensor>(prefix + r.Encoder.EmbeddingKey, r.Rows.detach().clone()));

    /// <summary>Restores the rows from <see cref="State"/>.</summary>
    /// <exception cref="InvalidDataException">A row tensor is missing or mis-shaped.</exception>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state, string prefix) =>
        StateTensors.CopyInto(rows.ToDictionary(r => prefix + r.Encoder.EmbeddingKey, r => (Tensor)r.Rows, StringComparer.Ordinal), state, "embedding rows");

    /// <summary>Sets the rows from vectors per embedding key (continuing from a file).</summary>
    /// <exception cref="InvalidDataException">The embedding has no vectors of the right shape for an encoder.</exception>
    public void CopyFrom(TextualInversionEmbedding embedding, string file)
    {
        using var noGrad = no_grad();
        foreach (var (encoder, parameter) in rows)
        {
            var key = rows.Count == 1 ? TextualInversionEmbedding.DefaultEncoderKey : encoder.EmbeddingKey;
            if (embedding.VectorsFor(key) is not { } vectors || !vectors.shape.SequenceEqual(parameter.shape))
            {
                throw new InvalidDataException($"{file}: the embedding has {embedding.VectorCount} vector(s) of width {string.Join(" + ", embedding.Vectors.Values.Select(v => v.shape[1]))}; this run needs {Tokens.Count} of width {encoder.Width} for '{key}'.");
            }

            parameter.copy_(vectors);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (encoder, _) in rows)
        {
            encoder.Encoder.RemoveAddedTokenRows();
        }

        rows.Clear();
        for (var i = addedTokens.Count - 1; i >= 0; i--)
        {
            addedTokens[i].Tokenizer.RemoveAddedToken(addedTokens[i].Token);
        }

        addedTokens.Clear();
    }
}
