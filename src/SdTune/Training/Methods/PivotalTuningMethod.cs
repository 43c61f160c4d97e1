using System.Globalization;
using SdTune.Checkpoints.Embeddings;
using SdTune.Options;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using static TorchSharp.torch;

namespace SdTune.Training.Methods;

/// <summary>
/// Pivotal tuning (diffusers' advanced DreamBooth-LoRA script, from cog-sdxl): a UNet LoRA and textual-inversion tokens
/// trained together. Each <c>token_abstraction</c> word in captions and sample prompts (e.g. <c>TOK</c>) becomes
/// <c>num_new_tokens_per_abstraction</c> new tokens (<c>&lt;s0&gt;&lt;s1&gt;</c>), started at random with the token
/// table's spread; after each step their rows are nudged back toward that spread; they stop training after
/// <c>train_text_encoder_ti_frac</c> of the steps (the pivot) while the LoRA goes on. The embeddings have their own
/// learning rate (<c>text_encoder_lr</c>) and weight decay (<c>embedding_weight_decay</c>); with Prodigy every group
/// shares <c>learning_rate</c>, as the reference does. Output: the kohya LoRA <c>NAME.safetensors</c> and the embeddings
/// <c>NAME_emb.safetensors</c> (<c>clip_l</c>, SDXL also <c>clip_g</c>); <c>generate</c> loads the embeddings with the
/// LoRA and reads the abstraction word in prompts.
/// </summary>
public sealed class PivotalTuningMethod : ITrainingMethod
{
    /// <summary>The words in captions that stand for the concept, comma-separated, <c>token_abstraction</c>.</summary>
    public static readonly TrainingOption<string> TokenAbstraction = TrainingOption.Text("token_abstraction", "TOK", "Word(s) in captions and sample prompts that become new tokens, comma-separated (TOK -> <s0><s1>).");

    /// <summary>New tokens per abstraction word, <c>num_new_tokens_per_abstraction</c>.</summary>
    public static readonly TrainingOption<int> TokensPerAbstraction = TrainingOption.Integer("num_new_tokens_per_abstraction", 2, new NumericRange(NumberType.Int32, 1, 75), "New tokens each abstraction word becomes.");

    /// <summary>The fraction of the steps the embeddings train for, <c>train_text_encoder_ti_frac</c>.</summary>
    public static readonly TrainingOption<double> TiFraction = TrainingOption.Real("train_text_encoder_ti_frac", 0.5, new NumericRange(NumberType.Float64, 0, 1), "Fraction of the steps the embeddings train for; then they freeze (the pivot) and the LoRA goes on.");

    /// <summary>Weight decay of the embeddings, <c>embedding_weight_decay</c>.</summary>
    public static readonly TrainingOption<double?> EmbeddingWeightDecay = TrainingOption.OptionalReal("embedding_weight_decay", NumericRange.NonNegativeFloat32, "Weight decay of the embeddings (default: the optimizer's).");

    /// <summary>The method as the rest of SdTune sees it (registered in <see cref="TrainingMethods"/>).</summary>
    public static TrainingMethodDefinition Definition { get; } = new()
    {
        Name = "pivotal",
        Summary = "Pivotal tuning: a UNet LoRA and new token embeddings trained together (the embeddings freeze at a fraction of the steps).",
        Create = () => new PivotalTuningMethod(),
        Options = [TokenAbstraction, TokensPerAbstraction, TiFraction, EmbeddingWeightDecay, LoraMethod.NetworkDim, LoraMethod.NetworkAlpha, LoraMethod.NetworkDropout, LoraMethod.NetworkArgs, TextualInversionMethod.SaveEmbeddingAs],
        Validate = c =>
        {
            var words = Abstractions(c);
            if (words.Count == 0 || words.Any(w => w.Any(char.IsWhiteSpace)))
            {
                throw new TrainingConfigException(TokenAbstraction.Name, $"\"{TokenAbstraction.Value(c)}\" must be one or more words without spaces, comma-separated.");
            }

            _ = LoraMethod.NetworkOptionsOf(c);
        },
        Trains = c => new TrainedParts(true, true, TiFraction.Value(c) >= 1),
        Output = TrainedOutput.AppliedToBase(
            (request, path) => request with { Loras = [.. request.Loras, (path, 1.0)] },
            "sdtune generate --lora {0}:1.0 (its NAME_emb embeddings load with it; write the abstraction word or NAME_emb in the prompt)"),
        Benchmarks =
        [
            new("pivotal", "pivotal tuning: LoRA r8 + 2 tokens (frac 0.5)", (c, subject) => c
                .With(TokenAbstraction, subject.Identifier).With(LoraMethod.NetworkDim, 8).With(LoraMethod.NetworkAlpha, 8.0)
                with { LearningRate = 5e-3 }),
        ],
    };

    private readonly LoraMethod lora = new();
    private readonly EmbeddingSaves saves = new();
    private NewTokens? tokens;
    private List<(string Word, string Tokens)> replacements = [];
    private double fraction;
    private double tableStd;
    private bool pivoted;

    /// <inheritdoc />
    public string Name => "pivotal";

    /// <inheritdoc />
    public bool TrainsTextEncoder => tokens is not null && !pivoted;

    /// <summary>The new tokens (after <see cref="Prepare"/>).</summary>
    internal NewTokens Tokens => tokens ?? throw new InvalidOperationException("The pivotal-tuning method is not prepared.");

    /// <summary>Whether the embeddings have stopped training.</summary>
    public bool Pivoted => pivoted;

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> Prepare(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var config = context.Config;
        var groups = lora.Prepare(context with { Config = config.With(LoraMethod.NetworkTrainUnetOnly, true) }).ToList();
        fraction = TiFraction.Value(config);
        var perWord = TokensPerAbstraction.Value(config);
        var words = Abstractions(config);
        var names = new List<string>();
        replacements = [];
        foreach (var word in words)
        {
            var wordTokens = Enumerable.Range(names.Count, perWord).Select(i => string.Create(CultureInfo.InvariantCulture, $"<s{i}>")).ToList();
            names.AddRange(wordTokens);
            replacements.Add((word, string.Concat(wordTokens)));
        }

        // Longer words first, so "TOK" does not replace the start of "TOK2".
        replacements = [.. replacements.OrderByDescending(r => r.Word.Length)];
        tokens = NewTokens.Add(context.Model, names, encoder => TextualInversionMethod.InitialRows(encoder, "", names.Count), TokenAbstraction.Name);
        tableStd = context.Model.TextEncoder.TokenEmbedding.weight!.to(ScalarType.Float32).std().item<float>();
        var prodigy = config.OptimizerType.Equals("Prodigy", StringComparison.OrdinalIgnoreCase);
        if (prodigy && config.TextEncoderLr is { } separate && separate != config.LearningRate)
        {
            context.Warnings.Add($"text_encoder_lr = {separate.ToString(CultureInfo.InvariantCulture)} is not used: with Prodigy the embeddings share learning_rate with the LoRA.");
        }

        var rate = prodigy ? config.LearningRate : config.TextEncoderLr ?? config.LearningRate;
        groups.Add(new ParameterGroup("embeddings", tokens.Parameters, rate) { WeightDecay = EmbeddingWeightDecay.Value(config) });
        return groups;
    }

    /// <inheritdoc />
    public void SetTrainingMode(bool training) => lora.SetTrainingMode(training);

    /// <inheritdoc />
    public void BeforeStep(TrainingStepInfo step)
    {
        if (!pivoted && step.Fraction >= fraction)
        {
            pivoted = true;
            foreach (var p in Tokens.Parameters)
            {
                p.requires_grad = false;
            }
        }
    }

    /// <inheritdoc />
    public void AfterStep(TrainingStepInfo step)
    {
        if (pivoted)
        {
            return;
        }

        // cog-sdxl's retraction: rows drift toward the table's spread, new = new · (σ_table / σ_new)^0.1.
        using var noGrad = no_grad();
        foreach (var rows in Tokens.Parameters)
        {
            var std = rows.std().item<float>();
            if (std > 0)
            {
                rows.mul_(Math.Pow(tableStd / std, 0.1));
            }
        }
    }

    /// <inheritdoc />
    public Tensor ReduceLoss(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples) => lora.ReduceLoss(perSampleLoss, samples);

    /// <inheritdoc />
    public string TrainingCaption(string caption, IRandomSource random) => Replace(caption);

    /// <inheritdoc />
    public string SamplePrompt(string prompt) => Replace(prompt);

    /// <inheritdoc />
    public IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var embeddingName = name + "_emb";
        var metadata = new Dictionary<string, string>
        {
            [Pipelines.LoraEmbeddings.AbstractionMetadataKey] = string.Join(',', replacements.Select(r => r.Word)),
            ["step"] = info.Step.ToString(CultureInfo.InvariantCulture),
        };
        var paths = new List<string>();
        var layouts = TextualInversionMethod.SaveEmbeddingAs.Value(info.Config).Where(l => l != EmbeddingSaves.Safetensors).ToList();
        if (layouts.Count > 0)
        {
            paths.AddRange(saves.Save(Tokens, folder, embeddingName, info, layouts, replacements[0].Tokens));
        }

        using (var embedding = Tokens.ToEmbedding(embeddingName, info.Step, null))
        {
            var path = Path.Combine(folder, embeddingName + ".safetensors");
            TextualInversionFile.SaveByEncoder(embedding, path, metadata);
            paths.Add(path);
        }

        paths.AddRange(lora.SaveOutput(folder, name, info));
        return paths;
    }

    /// <inheritdoc />
    public IReadOnlyList<KeyValuePair<string, Tensor>> GetState() => [.. lora.GetState(), .. Tokens.State(EmbeddingPrefix)];

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        lora.LoadState(state.Where(kv => !kv.Key.StartsWith(EmbeddingPrefix, StringComparison.Ordinal)).ToDictionary(StringComparer.Ordinal));
        Tokens.LoadState(state.Where(kv => kv.Key.StartsWith(EmbeddingPrefix, StringComparison.Ordinal)).ToDictionary(StringComparer.Ordinal), EmbeddingPrefix);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lora.Dispose();
        tokens?.Dispose();
        tokens = null;
    }

    private const string EmbeddingPrefix = "pivotal_embedding.";

    private static List<string> Abstractions(TrainingConfig config) =>
        [.. TokenAbstraction.Value(config).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    private string Replace(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (var (word, newTokens) in replacements)
        {
            text = text.Replace(word, newTokens, StringComparison.Ordinal);
        }

        return text;
    }
}
