namespace SdTune.Checkpoints.Inspection;

/// <summary>The verdict of <see cref="StateDictClassifier"/> on a set of tensor names and shapes.</summary>
/// <param name="Kind">What the tensors are.</param>
/// <param name="Architecture">The model family they fit, when it can be told.</param>
/// <param name="Flavour">A finer description (LoRA algorithm, key layout, variant).</param>
public sealed record StateDictClass(ModelFileKind Kind, ModelArchitecture Architecture, string? Flavour);

/// <summary>
/// Tells what a flat state dict is from its tensor names and shapes alone (no data is read), using the key
/// conventions of the ecosystem: original LDM/SGM checkpoints, diffusers and transformers components,
/// kohya/LyCORIS and diffusers/PEFT LoRA files, textual-inversion embeddings, ControlNets and T2I-Adapters.
/// </summary>
public static class StateDictClassifier
{
    /// <summary>Classifies <paramref name="tensors"/>.</summary>
    public static StateDictClass Classify(IReadOnlyCollection<TensorEntry> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var byName = tensors.GroupBy(t => t.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        bool Has(string prefix) => tensors.Any(t => t.Name.StartsWith(prefix, StringComparison.Ordinal));

        if (Has("lora_unet_") || Has("lora_te_") || Has("lora_te1_") || Has("lora_te2_"))
        {
            return new(ModelFileKind.Lora, KohyaLoraArchitecture(tensors), KohyaLoraFlavour(tensors));
        }

        if (tensors.Any(t => t.Name.Contains(".lora_A.", StringComparison.Ordinal) || t.Name.Contains(".lora.down.", StringComparison.Ordinal) || t.Name.Contains(".lora_linear_layer.", StringComparison.Ordinal)))
        {
            return new(ModelFileKind.Lora, PeftLoraArchitecture(tensors), "diffusers/PEFT LoRA");
        }

        // ControlNet 1.0 files hold the whole SD model beside the ControlNet under control_model.
        if (Has("control_model.") || Has("controlnet_cond_embedding.") || (Has("input_hint_block.") && Has("zero_convs.")))
        {
            var layout = Has("controlnet_cond_embedding.") ? "diffusers layout" : Has("control_model.") ? "original layout (control_model.)" : "original layout";
            return new(ModelFileKind.ControlNet, ContextArchitecture(tensors), layout);
        }

        if (Has("adapter.body.") || Has("body.0.block1.") || Has("body.0.body.0.block1."))
        {
            return T2IAdapterClass(tensors, byName);
        }

        if (Has("model.diffusion_model."))
        {
            var architecture = Has("conditioner.embedders.1.") ? ModelArchitecture.SDXL
                : Has("cond_stage_model.model.") ? ModelArchitecture.SD2
                : Has("cond_stage_model.transformer.") ? ModelArchitecture.SD1
                : ModelArchitecture.Unknown;
            var inChannels = byName.TryGetValue("model.diffusion_model.input_blocks.0.0.weight", out var convIn) && convIn.Shape.Count == 4 ? convIn.Shape[1] : 4;
            var flavour = inChannels == 9 ? "inpainting (9 input channels)" : inChannels == 4 ? "original (LDM/SGM) layout" : $"{inChannels} input channels";
            return new(ModelFileKind.StableDiffusionCheckpoint, architecture, flavour);
        }

        if (Has("conv_in.") && Has("time_embedding.") && Has("down_blocks."))
        {
            return new(ModelFileKind.Unet, ContextArchitecture(tensors), "diffusers layout");
        }

        if (Has("encoder.conv_in.") && Has("decoder.conv_in."))
        {
            return new(ModelFileKind.Vae, ModelArchitecture.Unknown, Has("encoder.down_blocks.") ? "diffusers layout" : "original layout");
        }

        if (Has("text_model.embeddings.") || Has("embeddings.token_embedding."))
        {
            var width = LastDimension(tensors.FirstOrDefault(t => t.Name.EndsWith("embeddings.token_embedding.weight", StringComparison.Ordinal)));
            var architecture = width switch { 768 => ModelArchitecture.SD1, 1024 => ModelArchitecture.SD2, 1280 => ModelArchitecture.SDXL, _ => ModelArchitecture.Unknown };
            return new(ModelFileKind.TextEncoder, architecture, width is { } w ? $"CLIP text encoder, width {w}" : "CLIP text encoder");
        }

        if (byName.ContainsKey("clip_l") && byName.ContainsKey("clip_g"))
        {
            return new(ModelFileKind.Embedding, ModelArchitecture.SDXL, $"SDXL embedding (clip_l + clip_g), {VectorCount(byName["clip_g"])} vectors");
        }

        if (tensors.Count == 1 && tensors.First().Shape.Count is 1 or 2)
        {
            var only = tensors.First();
            var width = only.Shape[^1];
            var architecture = width switch { 768 => ModelArchitecture.SD1, 1024 => ModelArchitecture.SD2, _ => ModelArchitecture.Unknown };
            var format = only.Name switch
            {
                "emb_params" => "kohya emb_params",
                "clip_l" => "clip_l only",
                _ => $"diffusers learned_embeds for '{only.Name}'",
            };
            return new(ModelFileKind.Embedding, architecture, $"{format}, {VectorCount(only)} vectors of width {width}");
        }

        return new(ModelFileKind.Unknown, ModelArchitecture.Unknown, null);
    }

    /// <summary>
    /// diffusers adapters (<c>adapter.*</c>) show their type by structure: a <c>conv_in</c> means a full adapter, whose
    /// <c>conv_in</c> takes image channels x the square of the pixel-unshuffle factor (16 for SDXL's); without it, a light one.
    /// </summary>
    private static StateDictClass T2IAdapterClass(IReadOnlyCollection<TensorEntry> tensors, Dictionary<string, TensorEntry> byName)
    {
        if (!tensors.Any(t => t.Name.StartsWith("adapter.", StringComparison.Ordinal)))
        {
            return new(ModelFileKind.T2IAdapter, ModelArchitecture.Unknown, "original (TencentARC) layout");
        }

        if (!byName.TryGetValue("adapter.conv_in.weight", out var convIn) || convIn.Shape.Count != 4)
        {
            return new(ModelFileKind.T2IAdapter, ModelArchitecture.Unknown, "diffusers layout, light_adapter");
        }

        // full_adapter and full_adapter_xl have the same tensors; SDXL's unshuffles by 16 (3 or 1 image channels).
        var xl = convIn.Shape[1] is 768 or 256;
        return xl
            ? new(ModelFileKind.T2IAdapter, ModelArchitecture.SDXL, "diffusers layout, full_adapter_xl")
            : new(ModelFileKind.T2IAdapter, ModelArchitecture.Unknown, "diffusers layout, full_adapter");
    }

    private static long VectorCount(TensorEntry entry) => entry.Shape.Count == 2 ? entry.Shape[0] : 1;

    // Files may hold 0-d tensors under any name: a dimension that is not there is no width.
    private static long? LastDimension(TensorEntry? entry) => entry is { Shape.Count: > 0 } ? entry.Shape[^1] : null;

    private static string KohyaLoraFlavour(IReadOnlyCollection<TensorEntry> tensors)
    {
        bool Any(string suffix) => tensors.Any(t => t.Name.EndsWith(suffix, StringComparison.Ordinal));
        var algorithms = new List<string>();
        if (Any(".lora_down.weight"))
        {
            var conv3 = tensors.Any(t => t.Name.EndsWith(".lora_down.weight", StringComparison.Ordinal) && t.Shape.Count == 4 && (t.Shape[2] > 1 || t.Shape[3] > 1));
            algorithms.Add(conv3 ? "LoCon (LoRA with 3x3 convolutions)" : "LoRA");
        }

        if (Any(".hada_w1_a"))
        {
            algorithms.Add("LyCORIS LoHa");
        }

        if (Any(".lokr_w1") || Any(".lokr_w1_a"))
        {
            algorithms.Add("LyCORIS LoKr");
        }

        if (Any(".diff"))
        {
            algorithms.Add("LyCORIS full");
        }

        if (Any(".oft_blocks"))
        {
            algorithms.Add("LyCORIS OFT");
        }

        if (Any(".on_input"))
        {
            algorithms.Add("LyCORIS (IA)^3");
        }

        if (Any(".a1.weight"))
        {
            algorithms.Add("LyCORIS GLoRA");
        }

        if (Any(".dora_scale"))
        {
            algorithms.Add("DoRA");
        }

        var text = algorithms.Count == 0 ? "kohya-style network (unrecognised algorithm)" : string.Join(" + ", algorithms);
        var parts = new List<string>();
        if (tensors.Any(t => t.Name.StartsWith("lora_unet_", StringComparison.Ordinal)))
        {
            parts.Add("UNet");
        }

        if (tensors.Any(t => t.Name.StartsWith("lora_te", StringComparison.Ordinal)))
        {
            parts.Add("text encoder");
        }

        var ranks = tensors.Where(t => t.Name.EndsWith(".lora_down.weight", StringComparison.Ordinal)).Where(t => t.Shape.Count > 0).Select(t => t.Shape[0]).Distinct().Order().ToList();
        var rank = ranks.Count switch { 0 => "", 1 => $", rank {ranks[0]}", _ => $", ranks {ranks[0]}..{ranks[^1]}" };
        return $"{text} on {string.Join(" + ", parts)}{rank}";
    }

    private static ModelArchitecture KohyaLoraArchitecture(IReadOnlyCollection<TensorEntry> tensors)
    {
        if (tensors.Any(t => t.Name.StartsWith("lora_te1_", StringComparison.Ordinal) || t.Name.StartsWith("lora_te2_", StringComparison.Ordinal) || t.Name.StartsWith("lora_unet_input_blocks_", StringComparison.Ordinal) || t.Name.StartsWith("lora_unet_output_blocks_", StringComparison.Ordinal)))
        {
            return ModelArchitecture.SDXL;
        }

        // Cross-attention key/value projections read the text context: 768 wide on SD1, 1024 on SD2.
        var contextWidth = LastDimension(tensors.FirstOrDefault(t => (t.Name.Contains("attn2_to_k.", StringComparison.Ordinal) || t.Name.Contains("attn2_to_k_", StringComparison.Ordinal)) && t.Name.EndsWith("lora_down.weight", StringComparison.Ordinal)));
        var textWidth = LastDimension(tensors.FirstOrDefault(t => t.Name.StartsWith("lora_te_", StringComparison.Ordinal) && t.Name.EndsWith("q_proj.lora_down.weight", StringComparison.Ordinal)));
        return (contextWidth ?? textWidth) switch
        {
            768 => ModelArchitecture.SD1,
            1024 => ModelArchitecture.SD2,
            2048 => ModelArchitecture.SDXL,
            _ => ModelArchitecture.Unknown,
        };
    }

    private static ModelArchitecture PeftLoraArchitecture(IReadOnlyCollection<TensorEntry> tensors)
    {
        if (tensors.Any(t => t.Name.StartsWith("text_encoder_2.", StringComparison.Ordinal)))
        {
            return ModelArchitecture.SDXL;
        }

        var contextWidth = LastDimension(tensors.FirstOrDefault(t => t.Name.Contains("attn2.to_k", StringComparison.Ordinal) && (t.Name.Contains("lora_A", StringComparison.Ordinal) || t.Name.Contains("down", StringComparison.Ordinal))));
        return contextWidth switch
        {
            768 => ModelArchitecture.SD1,
            1024 => ModelArchitecture.SD2,
            2048 => ModelArchitecture.SDXL,
            _ => ModelArchitecture.Unknown,
        };
    }

    private static ModelArchitecture ContextArchitecture(IReadOnlyCollection<TensorEntry> tensors)
    {
        var width = LastDimension(tensors.FirstOrDefault(t => t.Name.EndsWith("attn2.to_k.weight", StringComparison.Ordinal)));
        return width switch
        {
            768 => ModelArchitecture.SD1,
            1024 => ModelArchitecture.SD2,
            2048 => ModelArchitecture.SDXL,
            _ => ModelArchitecture.Unknown,
        };
    }
}
