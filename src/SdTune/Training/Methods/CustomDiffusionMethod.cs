using SdTune.Adapters.Formats;
using SdTune.Checkpoints.Embeddings;
using SdTune.Conditioning;
using SdTune.IO;
using SdTune.Models.Layers;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Training.Methods;

/// <summary>
/// Custom Diffusion (Kumari et al., CVPR 2023): only the key and value projections of the UNet's cross-attention layers
/// train (with <c>freeze_model = "crossattn"</c> also their query and output projections), in float32, and optionally
/// modifier tokens (<c>&lt;new1&gt;</c>) with their own embedding rows; the keys and values of the first (start) token
/// get no gradient, as in the paper's code. Prior preservation as DreamBooth's (class images generated when too few);
/// several concepts at once through a dataset TOML whose subsets use different modifier tokens. Output: a folder per
/// save with diffusers' <c>pytorch_custom_diffusion_weights.safetensors</c> and one <c>&lt;token&gt;.safetensors</c>
/// per modifier token. The base model is given back unchanged when the run ends.
/// </summary>
public sealed class CustomDiffusionMethod : ITrainingMethod
{
    /// <summary>What trains, <c>freeze_model</c>: <c>crossattn_kv</c> (keys and values) or <c>crossattn</c> (all four projections).</summary>
    public static readonly TrainingOption<string> FreezeModel = TrainingOption.Text("freeze_model", "crossattn_kv", "crossattn_kv (train cross-attention keys and values) or crossattn (also queries and outputs).") with
    {
        Check = value => (string)value is "crossattn_kv" or "crossattn" ? null : $"\"{value}\": use crossattn_kv or crossattn.",
    };

    /// <summary>New tokens, <c>modifier_token</c>: one or more joined by '+' (<c>&lt;new1&gt;+&lt;new2&gt;</c>); none by default.</summary>
    public static readonly TrainingOption<string> ModifierToken = TrainingOption.Text("modifier_token", "", "New token(s) for the concept(s), joined by '+' (e.g. <new1>+<new2>); empty for none.") with
    {
        Check = value => Tokens((string)value).Any(t => t.Any(char.IsWhiteSpace)) ? $"\"{value}\": tokens cannot hold spaces." : null,
    };

    /// <summary>Where each modifier token starts, <c>initializer_token</c>: one-token words joined by '+', in order.</summary>
    public static readonly TrainingOption<string> InitializerToken = TrainingOption.Text("initializer_token", "ktn+pll+ucd", "One-token word(s) the modifier tokens start from, joined by '+', in order.") with
    {
        NotUsed = c => ModifierToken.Value(c).Length == 0 ? "needs modifier_token" : null,
    };

    /// <summary>The method as the rest of SdTune sees it (registered in <see cref="TrainingMethods"/>).</summary>
    public static TrainingMethodDefinition Definition { get; } = new()
    {
        Name = "custom-diffusion",
        Summary = "Custom Diffusion: train the UNet's cross-attention keys and values (and optional modifier tokens) with prior preservation.",
        Create = () => new CustomDiffusionMethod(),
        Options = [FreezeModel, ModifierToken, InitializerToken],
        Validate = c =>
        {
            var tokens = Tokens(ModifierToken.Value(c));
            if (tokens.Count > Tokens(InitializerToken.Value(c)).Count)
            {
                throw new TrainingConfigException(InitializerToken.Name, $"{tokens.Count} modifier tokens but only {Tokens(InitializerToken.Value(c)).Count} initializer tokens; give one per modifier token.");
            }
        },
        Trains = c => new TrainedParts(true, ModifierToken.Value(c).Length > 0, ModifierToken.Value(c).Length > 0),
        Output = TrainedOutput.AppliedToBase(
            (request, path) => request with { CustomDiffusion = [.. request.CustomDiffusion, path] },
            "sdtune generate --custom-diffusion {0} (write its modifier tokens in the prompt)"),
        Benchmarks =
        [
            // As the paper: the subject's word becomes a modifier token trained beside the keys and values (at a far lower
            // rate: the toy's 32-wide text features make every key/value change reach every word); 40 class pictures.
            new("custom-diffusion", "Custom Diffusion (cross-attention K/V + modifier token) + prior preservation",
                (c, s) => c.With(ModifierToken, s.Identifier).With(InitializerToken, s.ClassWord) with { LearningRate = 3e-4, TextEncoderLr = 0.1, PriorLossWeight = 1.0 },
                ClassImages: 40),
        ],
    };

    private readonly List<TrainedProjection> trained = [];
    private readonly List<Action> hooks = [];
    private NewTokens? tokens;

    /// <inheritdoc />
    public string Name => "custom-diffusion";

    /// <inheritdoc />
    public bool TrainsTextEncoder => tokens is not null;

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> Prepare(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var config = context.Config;
        ClassImages.Ensure(context);
        context.CastFrozenWeights();
        var projections = FreezeModel.Value(config) == "crossattn" ? new[] { "to_k", "to_v", "to_q", "to_out.0" } : ["to_k", "to_v"];
        var unetParameters = new List<Parameter>();
        foreach (var (path, module) in context.Model.Unet.named_modules())
        {
            if (module is not Attention || !path.EndsWith(".attn2", StringComparison.Ordinal))
            {
                continue;
            }

            foreach (var projection in projections)
            {
                var layer = (Linear)module.named_modules().Single(m => m.name == projection).module;
                unetParameters.AddRange(Unfreeze(path, projection, layer, context.WeightDType, detachStartToken: projection is "to_k" or "to_v"));
            }
        }

        if (unetParameters.Count == 0)
        {
            throw new TrainingConfigException("method", "the UNet has no cross-attention layers (attn2) to train.");
        }

        var groups = new List<ParameterGroup> { new("unet", unetParameters, config.UnetLr ?? config.LearningRate) };
        var words = Tokens(ModifierToken.Value(config));
        if (words.Count > 0)
        {
            var initializers = Tokens(InitializerToken.Value(config));
            tokens = NewTokens.Add(context.Model, words, encoder => InitialRows(encoder, initializers.Take(words.Count).ToList()), ModifierToken.Name);
            groups.Add(new ParameterGroup("text_encoder", tokens.Parameters, config.TextEncoderLr ?? config.LearningRate));
        }

        return groups;
    }

    /// <inheritdoc />
    public void SetTrainingMode(bool training)
    {
        // The trained layers have no dropout or normalisation of their own: nothing to switch.
    }

    /// <inheritdoc />
    public Tensor ReduceLoss(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples) => PriorPreservationLoss.WeightedMean(perSampleLoss, samples);

    /// <inheritdoc />
    public IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info)
    {
        var target = Path.Combine(folder, name);
        AtomicFolder.Write(target, staging =>
        {
            using var scope = NewDisposeScope();
            var tensors = TrainedTensors().Select(t => KeyValuePair.Create(CustomDiffusionFormat.Key(t.Attention, t.Projection, t.Tensor), t.Live.detach())).ToList();
            CustomDiffusionFormat.Save(Path.Combine(staging, CustomDiffusionFormat.WeightsFileName), tensors);
            if (tokens is not null)
            {
                using var all = tokens.ToEmbedding(name, info.Step, null);
                for (var i = 0; i < tokens.Tokens.Count; i++)
                {
                    // One file per token, {token: vector}, as diffusers' script writes them (load_textual_inversion reads it).
                    var token = tokens.Tokens[i];
                    using var one = new TextualInversionEmbedding(token, all.Vectors.ToDictionary(kv => kv.Key, kv => kv.Value.narrow(0, i, 1).clone(), StringComparer.Ordinal), "trained", info.Step);
                    TextualInversionFile.SaveDiffusers(one, token, Path.Combine(staging, token + ".safetensors"));
                }
            }
        });
        return [target];
    }

    /// <inheritdoc />
    public IReadOnlyList<KeyValuePair<string, Tensor>> GetState() =>
        [.. StateTensors.Copies(LiveTensors(), ""), .. tokens?.State(TokenStatePrefix) ?? []];

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        var (tokenState, unetState) = StateTensors.Split(state, TokenStatePrefix);
        StateTensors.CopyInto(LiveTensors(), unetState, "Custom Diffusion");
        tokens?.LoadState(tokenState, "");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        hooks.ForEach(remove => remove());
        hooks.Clear();
        using (no_grad())
        {
            foreach (var t in trained)
            {
                t.Layer.to(t.Type);
                t.Layer.weight!.requires_grad = false;
                t.Layer.weight.copy_(t.Weight);
                t.Weight.Dispose();
                if (t.Bias is not null)
                {
                    t.Layer.bias!.requires_grad = false;
                    t.Layer.bias.copy_(t.Bias);
                    t.Bias.Dispose();
                }
            }
        }

        trained.Clear();
        tokens?.Dispose();
        tokens = null;
    }

    private const string TokenStatePrefix = "tokens.";

    /// <summary>The trained UNet tensors by their state name (<c>unet.&lt;attention&gt;.&lt;projection&gt;.weight|bias</c>).</summary>
    private Dictionary<string, Tensor> LiveTensors() =>
        TrainedTensors().ToDictionary(t => $"unet.{t.Attention}.{t.Projection}.{t.Tensor}", t => t.Live, StringComparer.Ordinal);

    /// <summary>Every trained tensor with the attention layer and projection it belongs to: the weight, and the bias where there is one.</summary>
    private IEnumerable<(string Attention, string Projection, string Tensor, Tensor Live)> TrainedTensors()
    {
        foreach (var t in trained)
        {
            yield return (t.Attention, t.Projection, "weight", t.Layer.weight!);
            if (t.Bias is not null)
            {
                yield return (t.Attention, t.Projection, "bias", t.Layer.bias!);
            }
        }
    }

    /// <summary>The tokens of a '+'-joined list, trimmed, empty ones left out.</summary>
    internal static IReadOnlyList<string> Tokens(string joined) =>
        joined.Split('+', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Makes a projection trainable in float32, remembering its base weights; casts at its edges when the rest of the UNet is not float32.</summary>
    private IEnumerable<Parameter> Unfreeze(string attention, string projection, Linear layer, ScalarType weightType, bool detachStartToken)
    {
        trained.Add(new TrainedProjection(attention, projection, layer, layer.weight!.detach().clone().DetachFromDisposeScope(), layer.bias?.detach().clone().DetachFromDisposeScope(), layer.weight.dtype));
        layer.to(ScalarType.Float32);
        foreach (var p in layer.parameters())
        {
            p.requires_grad = true;
        }

        if (weightType != ScalarType.Float32)
        {
            hooks.Add(layer.register_forward_pre_hook((_, input) => input.to(ScalarType.Float32)).remove);
        }

        hooks.Add(layer.register_forward_hook((_, _, output) =>
        {
            // The start token's keys and values take no gradient (the paper's code detaches them).
            var result = detachStartToken && output.dim() == 3 && output.shape[1] > 1
                ? cat([output.narrow(1, 0, 1).detach(), output.narrow(1, 1, output.shape[1] - 1)], 1)
                : output;
            return weightType != ScalarType.Float32 ? result.to(weightType) : result;
        }).remove);
        return layer.parameters();
    }

    /// <summary>
    /// The starting rows of an encoder's modifier tokens: the embedding of each initializer, read as diffusers' script
    /// reads it — a vocabulary entry by its own spelling (<c>ktn</c> is the word-piece "ktn"), else a word that must be
    /// one token.
    /// </summary>
    private static Tensor InitialRows(ConditioningEncoder encoder, IReadOnlyList<string> initializers)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var table = encoder.Encoder.TokenEmbedding.weight!;
        var ids = initializers.Select(word =>
        {
            if (encoder.Tokenizer.TryGetTokenId(word, out var id) && id < table.shape[0])
            {
                return (long)id;
            }

            var encoded = encoder.Tokenizer.Encode(word);
            return encoded.Count == 1 && encoded[0] < table.shape[0]
                ? encoded[0]
                : throw new TrainingConfigException(InitializerToken.Name, $"\"{word}\" is {encoded.Count} tokens and no vocabulary entry; each initializer must be one token.");
        }).ToArray();
        return table.index_select(0, tensor(ids, ScalarType.Int64, table.device)).to(ScalarType.Float32).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>A projection made trainable, with the base weights (and type) it is given back when the run ends.</summary>
    private sealed record TrainedProjection(string Attention, string Projection, Linear Layer, Tensor Weight, Tensor? Bias, ScalarType Type);
}
