using SdTune.Models;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>Builds the rows of a diffusers → original plan, model by model.</summary>
internal static class DiffusersToOriginal
{
    public static SingleFileConversionPlan Plan(SdArchitecture architecture, IReadOnlyDictionary<SdComponent, IReadOnlyDictionary<string, long[]>> components)
    {
        var rows = new List<KeyConversion>();
        var unknown = new List<string>();
        if (architecture is SdArchitecture.SD1 or SdArchitecture.SD2)
        {
            foreach (var buffer in WrapperTensors.ScheduleBuffers)
            {
                rows.Add(Generated(SdComponent.Wrapper, buffer, [WrapperTensors.TrainTimesteps]));
            }
        }

        if (components.TryGetValue(SdComponent.Unet, out var unet))
        {
            var table = UnetKeyMap.Build(UnetLayout.FromDiffusers([.. unet.Keys]));
            foreach (var (name, shape) in unet)
            {
                var original = table.ToOriginal(name);
                AddRename(SdComponent.Unet, name, shape, original is null ? null : OriginalPrefixes.Unet + original, shape);
            }
        }

        if (components.TryGetValue(SdComponent.Vae, out var vae))
        {
            var table = VaeKeyMap.Build(VaeKeyMap.LayoutFromDiffusers([.. vae.Keys]));
            foreach (var (name, shape) in vae)
            {
                var original = table.ToOriginal(name);
                if (original is not null && VaeKeyMap.IsAttentionProjectionWeight(name) && shape.Length == 2)
                {
                    rows.Add(OriginalToDiffusers.Row(SdComponent.Vae, name, shape, OriginalPrefixes.Vae + original, [shape[0], shape[1], 1, 1], KeyConversionOp.LinearToConv));
                }
                else
                {
                    AddRename(SdComponent.Vae, name, shape, original is null ? null : OriginalPrefixes.Vae + original, shape);
                }
            }
        }

        if (components.TryGetValue(SdComponent.TextEncoder, out var text))
        {
            if (architecture == SdArchitecture.SD2)
            {
                OpenClip(SdComponent.TextEncoder, OriginalPrefixes.Sd2TextEncoder, text, withProjection: false);
            }
            else
            {
                ClipL(OriginalPrefixes.Of(architecture, SdComponent.TextEncoder), text);
            }
        }

        if (components.TryGetValue(SdComponent.TextEncoder2, out var text2))
        {
            if (architecture != SdArchitecture.SdxlBase)
            {
                throw new InvalidDataException($"{architecture} has no second text encoder, but one was given");
            }

            OpenClip(SdComponent.TextEncoder2, OriginalPrefixes.SdxlTextEncoder2, text2, withProjection: true);
        }

        if (architecture == SdArchitecture.SdxlBase)
        {
            rows.Add(Generated(SdComponent.Wrapper, WrapperTensors.DenoiserSigmas, [WrapperTensors.TrainTimesteps]));
        }

        return new SingleFileConversionPlan(architecture, rows, [], unknown);

        void AddRename(SdComponent component, string name, long[] shape, string? target, long[] targetShape)
        {
            if (target is null)
            {
                unknown.Add(Label(component) + ":" + name);
            }
            else
            {
                rows.Add(OriginalToDiffusers.Row(component, name, shape, target, targetShape, KeyConversionOp.Rename));
            }
        }

        void ClipL(string prefix, IReadOnlyDictionary<string, long[]> names)
        {
            foreach (var (name, shape) in names)
            {
                var original = ClipTextKeyMap.ToOriginal(name);
                AddRename(SdComponent.TextEncoder, name, shape, original is null ? null : prefix + original, shape);
            }

            const string positionIds = ClipTextKeyMap.TextModel + "embeddings.position_ids";
            const string positionEmbedding = ClipTextKeyMap.TextModel + "embeddings.position_embedding.weight";
            if (!names.ContainsKey(positionIds) && names.TryGetValue(positionEmbedding, out var embedding))
            {
                // Insert after the position embedding, where the original layout has it.
                var at = rows.FindIndex(r => r.Component == SdComponent.TextEncoder && r.Sources.Count == 1 && r.Sources[0] == positionEmbedding);
                rows.Insert(at + 1, Generated(SdComponent.TextEncoder, prefix + positionIds, [1, embedding[0]]));
            }
        }

        void OpenClip(SdComponent component, string prefix, IReadOnlyDictionary<string, long[]> names, bool withProjection)
        {
            var lastLayer = -1;
            foreach (var (name, shape) in names)
            {
                if (OpenClipKeyMap.TryParseHfLayer(name, out var layer, out var rest))
                {
                    lastLayer = Math.Max(lastLayer, layer);
                    if (QkvRows(component, prefix, names, name, layer, rest, layer) is { } merged)
                    {
                        rows.Add(merged);
                        continue;
                    }

                    if (IsQkv(rest))
                    {
                        continue; // k and v are merged by the q row; a missing q is reported there
                    }
                }

                if (name == "text_projection.weight" && withProjection && shape.Length == 2)
                {
                    rows.Add(OriginalToDiffusers.Row(component, name, shape, prefix + OpenClipKeyMap.TextProjection, [shape[1], shape[0]], KeyConversionOp.Transpose));
                    rows.Add(Generated(component, prefix + OpenClipKeyMap.LogitScale, []));
                    continue;
                }

                if (name == ClipTextKeyMap.TextModel + "embeddings.position_ids")
                {
                    continue; // OpenCLIP has no position_ids buffer
                }

                var original = OpenClipKeyMap.RenameToOriginal(name);
                AddRename(component, name, shape, original is null ? null : prefix + original, shape);
            }

            foreach (var (name, _) in names)
            {
                if (OpenClipKeyMap.TryParseHfLayer(name, out var layer, out var rest) && IsQkv(rest)
                    && !names.ContainsKey(OpenClipKeyMap.HfProjection(layer, "q_proj", rest.EndsWith("weight", StringComparison.Ordinal) ? "weight" : "bias")))
                {
                    unknown.Add(Label(component) + ":" + name + " (no matching q_proj to merge with)");
                }
            }

            if (!withProjection && lastLayer >= 0)
            {
                PadSd2(component, prefix, names, lastLayer);
            }
        }

        // SD 2.x: OpenCLIP ViT-H has one more layer than the diffusers model, plus a projection; neither is used.
        void PadSd2(SdComponent component, string prefix, IReadOnlyDictionary<string, long[]> names, int lastLayer)
        {
            var copyFrom = lastLayer;
            var padded = lastLayer + 1;
            var layerPrefix = OpenClipKeyMap.HfLayerPrefix(copyFrom);
            foreach (var (name, shape) in names)
            {
                if (!name.StartsWith(layerPrefix, StringComparison.Ordinal))
                {
                    continue;
                }

                var rest = name[layerPrefix.Length..];
                if (QkvRows(component, prefix, names, name, copyFrom, rest, padded) is { } merged)
                {
                    rows.Add(merged);
                }
                else if (!IsQkv(rest) && OpenClipKeyMap.RenameToOriginal(name) is { } original)
                {
                    var target = prefix + OpenClipKeyMap.OriginalLayerPrefix(padded) + original[OpenClipKeyMap.OriginalLayerPrefix(copyFrom).Length..];
                    rows.Add(OriginalToDiffusers.Row(component, name, shape, target, shape, KeyConversionOp.Rename));
                }
            }

            if (names.TryGetValue("text_model.final_layer_norm.weight", out var norm))
            {
                rows.Add(Generated(component, prefix + OpenClipKeyMap.TextProjection, [norm[0], norm[0]]));
            }

            rows.Add(Generated(component, prefix + OpenClipKeyMap.LogitScale, []));
        }
    }

    /// <summary>The merge row for a layer's q projection (weight or bias) into in_proj of <paramref name="targetLayer"/>.</summary>
    private static KeyConversion? QkvRows(SdComponent component, string prefix, IReadOnlyDictionary<string, long[]> names, string name, int layer, string rest, int targetLayer)
    {
        var leaf = rest switch { "self_attn.q_proj.weight" => "weight", "self_attn.q_proj.bias" => "bias", _ => null };
        if (leaf is null)
        {
            return null;
        }

        var sources = OpenClipKeyMap.QkvNames.Select(p => OpenClipKeyMap.HfProjection(layer, p, leaf)).ToArray();
        var missing = sources.Where(s => !names.ContainsKey(s)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"{Label(component)}: cannot merge '{name}' into in_proj: {string.Join(", ", missing)} missing");
        }

        var shapes = sources.Select(s => names[s]).ToArray();
        long[] merged = [.. shapes[0]];
        merged[0] = shapes.Sum(s => s[0]);
        return new KeyConversion(component, sources, shapes, prefix + OpenClipKeyMap.OriginalInProj(targetLayer, leaf), merged, KeyConversionOp.ConcatRows);
    }

    private static bool IsQkv(string rest) =>
        rest.StartsWith("self_attn.q_proj.", StringComparison.Ordinal) || rest.StartsWith("self_attn.k_proj.", StringComparison.Ordinal) ||
        rest.StartsWith("self_attn.v_proj.", StringComparison.Ordinal);

    private static KeyConversion Generated(SdComponent component, string target, long[] shape) =>
        new(component, [], [], target, shape, KeyConversionOp.Generate);

    private static string Label(SdComponent component) => component switch
    {
        SdComponent.Unet => "unet",
        SdComponent.Vae => "vae",
        SdComponent.TextEncoder => "text_encoder",
        SdComponent.TextEncoder2 => "text_encoder_2",
        _ => "wrapper",
    };
}
