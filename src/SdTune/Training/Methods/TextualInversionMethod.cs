using SdTune.Checkpoints.Embeddings;
using SdTune.Conditioning;
using SdTune.Options;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Training.Methods;

/// <summary>
/// Textual inversion (Gal et al.): new tokens for <c>token_string</c> (<c>num_vectors_per_token</c> of them, named as
/// kohya names them: the token string, then the token string with 1, 2, … appended), each a trainable embedding row
/// in every text encoder, started from <c>init_word</c>; nothing else of the model trains. Captions (or the object/style
/// prompt templates) and sample prompts have the token string replaced by the new tokens. Output: the learned vectors as
/// an embedding file whose name is the word prompts use — kohya/A1111 <c>.safetensors</c> (<c>emb_params</c>; SDXL
/// <c>clip_l</c> + <c>clip_g</c>), A1111 <c>.pt</c> and diffusers <c>learned_embeds.safetensors</c>.
/// </summary>
public sealed class TextualInversionMethod : ITrainingMethod
{
    /// <summary>The word in captions and sample prompts that stands for the concept, <c>token_string</c>.</summary>
    public static readonly TrainingOption<string> TokenString = TrainingOption.Text("token_string", "", "The word in captions and sample prompts that stands for the concept (required); it becomes new tokens.");

    /// <summary>The word(s) whose embeddings the new vectors start from, <c>init_word</c>.</summary>
    public static readonly TrainingOption<string> InitWord = TrainingOption.Text("init_word", "", "Word(s) the vectors start from: one token (every vector copies it) or one token per vector; empty starts them at random.");

    /// <summary>How many vectors the concept takes in a prompt, <c>num_vectors_per_token</c>.</summary>
    public static readonly TrainingOption<int> NumVectorsPerToken = TrainingOption.Integer("num_vectors_per_token", 1, new NumericRange(NumberType.Int32, 1, 75), "Vectors the learned word takes in a prompt (at most 75, one chunk).");

    /// <summary>Train with the object templates instead of the captions, <c>use_object_template</c>.</summary>
    public static readonly TrainingOption<bool> UseObjectTemplate = TrainingOption.Flag("use_object_template", false, "Train with the object prompt templates (\"a photo of a {}\", ...) instead of the captions.");

    /// <summary>Train with the style templates instead of the captions, <c>use_style_template</c>.</summary>
    public static readonly TrainingOption<bool> UseStyleTemplate = TrainingOption.Flag("use_style_template", false, "Train with the style prompt templates (\"a painting in the style of {}\", ...) instead of the captions.");

    /// <summary>Start from the vectors of an existing embedding file, <c>weights</c>.</summary>
    public static readonly TrainingOption<string?> Weights = TrainingOption.Path("weights", "Continue from an embedding file (its vectors replace the init word's).");

    /// <summary>The layouts written, <c>save_embedding_as</c>.</summary>
    public static readonly TrainingOption<IReadOnlyList<string>> SaveEmbeddingAs = TrainingOption.List("save_embedding_as", "Embedding files to write: safetensors (kohya emb_params, SDXL clip_l/clip_g; the default), pt (A1111), diffusers (NAME/learned_embeds.safetensors).") with
    {
        Check = value => ((IReadOnlyList<string>)value).FirstOrDefault(v => !EmbeddingSaves.Layouts.Contains(v, StringComparer.Ordinal)) is { } bad
            ? $"\"{bad}\" is not a layout; use {string.Join(", ", EmbeddingSaves.Layouts)}."
            : null,
    };

    /// <summary>The method as the rest of SdTune sees it (registered in <see cref="TrainingMethods"/>).</summary>
    public static TrainingMethodDefinition Definition { get; } = new()
    {
        Name = "textual-inversion",
        Summary = "Textual inversion: learn new word embeddings for a concept; the model stays frozen.",
        Create = () => new TextualInversionMethod(),
        Options = [TokenString, InitWord, NumVectorsPerToken, UseObjectTemplate, UseStyleTemplate, Weights, SaveEmbeddingAs],
        Validate = c =>
        {
            CheckTokenString(TokenString, c);
            if (UseObjectTemplate.Value(c) && UseStyleTemplate.Value(c))
            {
                throw new TrainingConfigException("use_object_template", "cannot be combined with use_style_template.");
            }
        },
        Trains = _ => new TrainedParts(false, true, true),
        Output = EmbeddingSaves.Output,
        Benchmarks =
        [
            // The toy text encoder's rows have a standard deviation near 1 (SD's: 0.014), so its rate is far higher than SD's 5e-3.
            new("textual-inversion", "textual inversion, 2 vectors from \"star\", lr 0.1", (c, subject) => c
                .With(TokenString, subject.Identifier).With(InitWord, subject.ClassWord).With(NumVectorsPerToken, 2)
                with { LearningRate = 1e-1, OutputName = subject.Identifier }),
        ],
    };

    private NewTokens? tokens;
    private IReadOnlyList<string> templates = [];
    private string tokenString = "";
    private string replacement = "";

    /// <inheritdoc />
    public string Name => "textual-inversion";

    /// <inheritdoc />
    public bool TrainsTextEncoder => true;

    /// <summary>The new tokens (after <see cref="Prepare"/>).</summary>
    internal NewTokens Tokens => tokens ?? throw new InvalidOperationException("The textual-inversion method is not prepared.");

    /// <summary>Checks that a token string is one word a tokenizer can add.</summary>
    /// <exception cref="TrainingConfigException">It is empty or holds whitespace.</exception>
    internal static void CheckTokenString(TrainingOption<string> key, TrainingConfig config)
    {
        var value = key.Value(config);
        if (value.Length == 0)
        {
            throw new TrainingConfigException(key.Name, "is required: the word in your captions that stands for the concept, e.g. \"mychar\".");
        }

        if (value.Any(char.IsWhiteSpace))
        {
            throw new TrainingConfigException(key.Name, $"\"{value}\" must be one word without spaces.");
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> Prepare(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var config = context.Config;
        var model = context.Model;
        context.CastFrozenWeights();

        tokenString = TokenString.Value(config);
        var count = NumVectorsPerToken.Value(config);
        List<string> names = [tokenString, .. Enumerable.Range(1, count - 1).Select(i => tokenString + i.ToString(System.Globalization.CultureInfo.InvariantCulture))];
        replacement = string.Join(' ', names);
        templates = UseObjectTemplate.Value(config) ? PromptTemplates.Object : UseStyleTemplate.Value(config) ? PromptTemplates.Style : [];
        var init = InitWord.Value(config);
        tokens = NewTokens.Add(model, names, encoder => InitialRows(encoder, init, count), TokenString.Name);
        if (Weights.Value(config) is { } file)
        {
            try
            {
                using var start = TextualInversionFile.Load(file);
                tokens.CopyFrom(start, file);
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                throw new TrainingConfigException(Weights.Name, e.Message, e);
            }
        }

        return [new ParameterGroup("embeddings", tokens.Parameters, config.LearningRate)];
    }

    /// <summary>
    /// The vectors an encoder's new tokens start from: the init word's token rows (one token: every vector copies it;
    /// one per vector: in order), or, without an init word, random rows with the table's standard deviation.
    /// </summary>
    /// <exception cref="TrainingConfigException">The init word gives no tokens, or a number that fits neither rule.</exception>
    internal static Tensor InitialRows(ConditioningEncoder encoder, string initWord, int count)
    {
        var table = encoder.Encoder.TokenEmbedding.weight!;
        using var noGrad = no_grad();
        if (initWord.Trim().Length == 0)
        {
            var std = table.to(ScalarType.Float32).std().item<float>();
            return randn([count, table.shape[1]], dtype: ScalarType.Float32) * std;
        }

        var ids = encoder.Tokenizer.Encode(initWord);
        if (ids.Count == 0)
        {
            throw new TrainingConfigException(InitWord.Name, $"\"{initWord}\" gives no tokens.");
        }

        if (ids.Count > 1 && ids.Count != count)
        {
            throw new TrainingConfigException(InitWord.Name, $"\"{initWord}\" is {ids.Count} tokens; with num_vectors_per_token = {count} it must be one token (every vector starts from it) or {count} (one for each vector).");
        }

        if (ids.Any(id => id >= table.shape[0]))
        {
            throw new TrainingConfigException(InitWord.Name, $"\"{initWord}\" contains an added token; use words of the vocabulary.");
        }

        var picks = tensor(Enumerable.Range(0, count).Select(i => (long)ids[i % ids.Count]).ToArray(), ScalarType.Int64, table.device);
        return table.index_select(0, picks).to(ScalarType.Float32).cpu();
    }

    /// <inheritdoc />
    public string TrainingCaption(string caption, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(caption);
        ArgumentNullException.ThrowIfNull(random);
        return templates.Count > 0
            ? random.Choice(templates).Replace("{}", replacement, StringComparison.Ordinal)
            : caption.Replace(tokenString, replacement, StringComparison.Ordinal);
    }

    /// <inheritdoc />
    public string SamplePrompt(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return prompt.Replace(tokenString, replacement, StringComparison.Ordinal);
    }

    /// <inheritdoc />
    public void SetTrainingMode(bool training)
    {
    }

    /// <inheritdoc />
    public Tensor ReduceLoss(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples) => PriorPreservationLoss.WeightedMean(perSampleLoss, samples);

    /// <inheritdoc />
    public IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return saves.Save(Tokens, folder, name, info, SaveEmbeddingAs.Value(info.Config), tokenString);
    }

    /// <inheritdoc />
    public IReadOnlyList<KeyValuePair<string, Tensor>> GetState() => [.. Tokens.State("embedding.")];

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> state) => Tokens.LoadState(state, "embedding.");

    /// <inheritdoc />
    public void Dispose()
    {
        tokens?.Dispose();
        tokens = null;
    }

    private readonly EmbeddingSaves saves = new();
}
