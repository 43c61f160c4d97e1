using System.Globalization;
using System.Text.Json;
using SdTune.IO;
using SdTune.Models.Layers;

namespace SdTune.Models.Clip;

/// <summary>
/// The architecture of a CLIP text encoder, as transformers' <c>CLIPTextConfig</c> describes it in a
/// <c>config.json</c>. Properties left out of a file take transformers' <c>CLIPTextConfig</c> defaults
/// (the values the initialisers below show).
/// </summary>
/// <remarks>
/// The token ids are informational: the published Stable Diffusion text-encoder configs carry the
/// placeholder ids <c>bos 0, eos 2, pad 1</c> rather than the tokenizer's 49406/49407, and the model
/// handles that (see <see cref="ClipTextEncoder.PooledTokenIndex"/>).
/// </remarks>
public sealed partial record ClipTextConfig
{
    /// <summary>Size of the token vocabulary (<c>vocab_size</c>).</summary>
    public int VocabSize { get; init; } = 49408;

    /// <summary>Width of the transformer (<c>hidden_size</c>).</summary>
    public int HiddenSize { get; init; } = 512;

    /// <summary>Width of the MLP inside each layer (<c>intermediate_size</c>).</summary>
    public int IntermediateSize { get; init; } = 2048;

    /// <summary>Output width of <c>text_projection</c> (<c>projection_dim</c>); unused by the model without projection.</summary>
    public int ProjectionDim { get; init; } = 512;

    /// <summary>Number of transformer layers (<c>num_hidden_layers</c>).</summary>
    public int NumHiddenLayers { get; init; } = 12;

    /// <summary>Number of attention heads (<c>num_attention_heads</c>); must divide <see cref="HiddenSize"/>.</summary>
    public int NumAttentionHeads { get; init; } = 8;

    /// <summary>Number of learned positions, the longest token sequence (<c>max_position_embeddings</c>).</summary>
    public int MaxPositionEmbeddings { get; init; } = 77;

    /// <summary>The MLP activation (<c>hidden_act</c>).</summary>
    public ClipActivation HiddenAct { get; init; } = ClipActivation.QuickGelu;

    /// <summary>Epsilon of every LayerNorm (<c>layer_norm_eps</c>).</summary>
    public double LayerNormEps { get; init; } = 1e-5;

    /// <summary>Start-of-text token id (<c>bos_token_id</c>), or null when the file sets none.</summary>
    public int? BosTokenId { get; init; } = 49406;

    /// <summary>End-of-text token id (<c>eos_token_id</c>), or null when the file sets none.</summary>
    public int? EosTokenId { get; init; } = 49407;

    /// <summary>Padding token id (<c>pad_token_id</c>), or null when the file sets none.</summary>
    public int? PadTokenId { get; init; } = 1;

    /// <summary>Width of one attention head.</summary>
    public int HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>
    /// CLIP ViT-L/14 text tower (OpenAI): the <c>text_encoder</c> of SD 1.x and the first text encoder of
    /// SDXL. 12 layers, width 768, 12 heads, MLP 3072, quick_gelu.
    /// </summary>
    public static ClipTextConfig ClipL { get; } = new()
    {
        HiddenSize = 768,
        IntermediateSize = 3072,
        ProjectionDim = 768,
        NumHiddenLayers = 12,
        NumAttentionHeads = 12,
        HiddenAct = ClipActivation.QuickGelu,
        PadTokenId = 49407,
    };

    /// <summary>
    /// OpenCLIP ViT-H/14 text tower as SD 2.x ships it (<c>text_encoder</c>, the last of its 24 layers
    /// removed): 23 layers, width 1024, 16 heads, MLP 4096, gelu. <c>projection_dim</c> is 512 as in the
    /// published config; SD 2.x uses the model without projection, so it has no effect.
    /// </summary>
    public static ClipTextConfig OpenClipH { get; } = new()
    {
        HiddenSize = 1024,
        IntermediateSize = 4096,
        ProjectionDim = 512,
        NumHiddenLayers = 23,
        NumAttentionHeads = 16,
        HiddenAct = ClipActivation.Gelu,
        PadTokenId = 0,
    };

    /// <summary>
    /// OpenCLIP ViT-bigG/14 text tower, SDXL's <c>text_encoder_2</c> (with projection): 32 layers, width
    /// 1280, 20 heads, MLP 5120, gelu, projection 1280.
    /// </summary>
    public static ClipTextConfig OpenClipBigG { get; } = new()
    {
        HiddenSize = 1280,
        IntermediateSize = 5120,
        ProjectionDim = 1280,
        NumHiddenLayers = 32,
        NumAttentionHeads = 20,
        HiddenAct = ClipActivation.Gelu,
        PadTokenId = 0,
    };

    /// <summary>Reads a transformers <c>config.json</c> (a <c>CLIPTextConfig</c>, or a <c>CLIPConfig</c> with a nested <c>text_config</c>).</summary>
    /// <exception cref="CheckpointFormatException">The file is not valid JSON or a field is invalid; the message names the file and field.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static ClipTextConfig FromJsonFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return FromJson(File.ReadAllText(path), path);
    }

    /// <summary>Parses the text of a transformers <c>config.json</c> (a <c>CLIPTextConfig</c>, or a <c>CLIPConfig</c> with a nested <c>text_config</c>).</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="sourceName">How error messages name the source (usually the file path).</param>
    /// <exception cref="CheckpointFormatException">The text is not valid JSON or a field is invalid; the message names the source and field.</exception>
    public static ClipTextConfig FromJson(string json, string sourceName = "config.json")
    {
        using (var document = ConfigJson.ParseObject(json, sourceName))
        {
            var root = document.RootElement;

            var fieldPrefix = "";
            if (root.TryGetProperty("text_config", out var nested))
            {
                if (nested.ValueKind != JsonValueKind.Object)
                {
                    throw new CheckpointFormatException(sourceName, $"field 'text_config' must be an object, found {nested.ValueKind}.");
                }

                root = nested;
                fieldPrefix = "text_config.";
            }

            var reader = new FieldReader(root, sourceName, fieldPrefix);
            var modelType = reader.String("model_type");
            if (modelType is not null && modelType != "clip_text_model" && modelType != "clip")
            {
                throw reader.Error("model_type", $"is '{modelType}', expected 'clip_text_model' (or 'clip' with a nested text_config)");
            }

            var defaults = new ClipTextConfig();
            var config = new ClipTextConfig
            {
                VocabSize = reader.Int("vocab_size") ?? defaults.VocabSize,
                HiddenSize = reader.Int("hidden_size") ?? defaults.HiddenSize,
                IntermediateSize = reader.Int("intermediate_size") ?? defaults.IntermediateSize,
                ProjectionDim = reader.Int("projection_dim") ?? defaults.ProjectionDim,
                NumHiddenLayers = reader.Int("num_hidden_layers") ?? defaults.NumHiddenLayers,
                NumAttentionHeads = reader.Int("num_attention_heads") ?? defaults.NumAttentionHeads,
                MaxPositionEmbeddings = reader.Int("max_position_embeddings") ?? defaults.MaxPositionEmbeddings,
                HiddenAct = ParseActivation(reader, reader.String("hidden_act")) ?? defaults.HiddenAct,
                LayerNormEps = reader.Double("layer_norm_eps") ?? defaults.LayerNormEps,
                BosTokenId = reader.NullableId("bos_token_id", defaults.BosTokenId),
                EosTokenId = reader.NullableId("eos_token_id", defaults.EosTokenId),
                PadTokenId = reader.NullableId("pad_token_id", defaults.PadTokenId),
            };

            if (config.FindProblem() is { } problem)
            {
                throw reader.Error(problem.Field, problem.Message);
            }

            return config;
        }
    }

    /// <summary>Checks that the values describe a buildable model.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names the config field.</exception>
    public void Validate()
    {
        if (FindProblem() is { } problem)
        {
            throw new ArgumentException($"Invalid CLIP text config: '{problem.Field}' {problem.Message}.");
        }
    }

    private (string Field, string Message)? FindProblem()
    {
        (string, int)[] positive =
        [
            ("vocab_size", VocabSize), ("hidden_size", HiddenSize), ("intermediate_size", IntermediateSize),
            ("projection_dim", ProjectionDim), ("num_hidden_layers", NumHiddenLayers),
            ("num_attention_heads", NumAttentionHeads), ("max_position_embeddings", MaxPositionEmbeddings),
        ];
        foreach (var (field, value) in positive)
        {
            if (value <= 0)
            {
                return (field, $"must be positive, got {value}");
            }
        }

        if (HiddenSize % NumAttentionHeads != 0)
        {
            return ("num_attention_heads", $"({NumAttentionHeads}) must divide hidden_size ({HiddenSize})");
        }

        if (!(LayerNormEps > 0) || double.IsInfinity(LayerNormEps))
        {
            return ("layer_norm_eps", $"must be a positive finite number, got {LayerNormEps.ToString(CultureInfo.InvariantCulture)}");
        }

        if (!Enum.IsDefined(HiddenAct))
        {
            return ("hidden_act", $"has an unknown value {(int)HiddenAct}");
        }

        return null;
    }

    private static ClipActivation? ParseActivation(FieldReader reader, string? value) => value switch
    {
        null => null,
        "quick_gelu" => ClipActivation.QuickGelu,
        "gelu" => ClipActivation.Gelu,
        _ => throw reader.Error("hidden_act", $"is '{value}'; supported: 'quick_gelu', 'gelu'"),
    };

    /// <summary>Typed access to the fields of one JSON object, with errors that name the source and field.</summary>
    private readonly struct FieldReader(JsonElement element, string sourceName, string fieldPrefix)
    {
        public CheckpointFormatException Error(string field, string message) =>
            new(sourceName, $"field '{fieldPrefix}{field}' {message}.");

        public int? Int(string field)
        {
            if (!TryGet(field, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var result))
            {
                throw Error(field, $"must be an integer, found {Describe(value)}");
            }

            return result;
        }

        public int? NullableId(string field, int? fallback)
        {
            if (!TryGet(field, out var value))
            {
                return fallback;
            }

            return value.ValueKind == JsonValueKind.Null ? null : Int(field);
        }

        public double? Double(string field)
        {
            if (!TryGet(field, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.Number)
            {
                throw Error(field, $"must be a number, found {Describe(value)}");
            }

            return value.GetDouble();
        }

        public string? String(string field)
        {
            if (!TryGet(field, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                throw Error(field, $"must be a string, found {Describe(value)}");
            }

            return value.GetString();
        }

        private bool TryGet(string field, out JsonElement value) => element.TryGetProperty(field, out value);

        private static string Describe(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.String => $"the string \"{value.GetString()}\"",
            JsonValueKind.Number => $"the number {value.GetRawText()}",
            _ => value.ValueKind.ToString().ToLowerInvariant(),
        };
    }
}
