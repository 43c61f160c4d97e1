using SdTune.Models;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>Builds the rows of an original → diffusers plan, walking the file's names in order.</summary>
internal static class OriginalToDiffusers
{
    public static SingleFileConversionPlan Plan(IReadOnlyDictionary<string, long[]> shapes, SingleFileDetection detection)
    {
        var architecture = detection.Architecture;
        var unet = UnetKeyMap.Build(UnetLayout.FromOriginal(SingleFileInspector.Strip(shapes, OriginalPrefixes.Unet).Keys));
        var vaeNames = SingleFileInspector.Strip(shapes, OriginalPrefixes.Vae).Keys.Where(n => !n.StartsWith("loss.", StringComparison.Ordinal)).ToList();
        var vae = vaeNames.Count > 0 ? VaeKeyMap.Build(VaeKeyMap.LayoutFromOriginal(vaeNames)) : null;
        var clipPrefix = architecture switch
        {
            SdArchitecture.SD1 => OriginalPrefixes.Sd1TextEncoder,
            SdArchitecture.SdxlBase => OriginalPrefixes.SdxlTextEncoder,
            _ => null,
        };
        var (openClipPrefix, openClipComponent) = architecture switch
        {
            SdArchitecture.SD2 => (OriginalPrefixes.Sd2TextEncoder, SdComponent.TextEncoder),
            SdArchitecture.SdxlBase => (OriginalPrefixes.SdxlTextEncoder2, SdComponent.TextEncoder2),
            _ => ((string?)null, SdComponent.TextEncoder),
        };

        // SD 2.x conditions on the penultimate OpenCLIP layer; the diffusers text encoder stops there.
        var droppedLayer = -1;
        if (architecture == SdArchitecture.SD2)
        {
            foreach (var name in SingleFileInspector.Strip(shapes, OriginalPrefixes.Sd2TextEncoder).Keys)
            {
                if (OpenClipKeyMap.TryParseLayer(name, out var layer, out _))
                {
                    droppedLayer = Math.Max(droppedLayer, layer);
                }
            }
        }

        var rows = new List<KeyConversion>(shapes.Count);
        var ignored = new List<IgnoredKey>();
        var unknown = new List<string>();
        foreach (var (name, shape) in shapes)
        {
            if (name.StartsWith(OriginalPrefixes.Unet, StringComparison.Ordinal))
            {
                var target = unet.ToDiffusers(name[OriginalPrefixes.Unet.Length..]);
                Add(target is null ? null : Row(SdComponent.Unet, name, shape, target, shape, KeyConversionOp.Rename));
            }
            else if (name.StartsWith(OriginalPrefixes.Vae, StringComparison.Ordinal))
            {
                if (SingleFileInspector.IsVaeLoss(name))
                {
                    ignored.Add(new IgnoredKey(name, "VAE training loss (LPIPS/discriminator), not part of the autoencoder"));
                    continue;
                }

                Add(VaeRow(vae!, name, shape));
            }
            else if (clipPrefix is not null && name.StartsWith(clipPrefix, StringComparison.Ordinal))
            {
                var target = ClipTextKeyMap.ToDiffusers(name[clipPrefix.Length..]);
                Add(target is null ? null : Row(SdComponent.TextEncoder, name, shape, target, shape, KeyConversionOp.Rename));
            }
            else if (openClipPrefix is not null && name.StartsWith(openClipPrefix, StringComparison.Ordinal))
            {
                OpenClip(name, name[openClipPrefix.Length..], shape);
            }
            else if (name.StartsWith(OriginalPrefixes.Ema, StringComparison.Ordinal))
            {
                ignored.Add(new IgnoredKey(name, "EMA copy of a UNet weight (ldm model_ema); the regular weights are converted"));
            }
            else if (WrapperTensors.IsScheduleBuffer(name) || name.StartsWith("denoiser.", StringComparison.Ordinal))
            {
                ignored.Add(new IgnoredKey(name, "noise-schedule buffer of the original wrapper; diffusers schedulers compute it"));
            }
            else if (name == "v_pred")
            {
                ignored.Add(new IgnoredKey(name, "prediction-type marker (v-prediction)"));
            }
            else
            {
                unknown.Add(name);
            }

            void Add(KeyConversion? row)
            {
                if (row is null)
                {
                    unknown.Add(name);
                }
                else
                {
                    rows.Add(row);
                }
            }
        }

        return new SingleFileConversionPlan(architecture, rows, ignored, unknown);

        void OpenClip(string name, string rest, long[] shape)
        {
            var component = openClipComponent;
            if (rest is OpenClipKeyMap.LogitScale or "attn_mask")
            {
                ignored.Add(new IgnoredKey(name, rest == "attn_mask" ? "causal attention mask, rebuilt by the model" : "contrastive temperature of OpenCLIP, unused for image generation"));
            }
            else if (rest == OpenClipKeyMap.TextProjection)
            {
                if (architecture == SdArchitecture.SD2)
                {
                    ignored.Add(new IgnoredKey(name, "SD 2.x uses the penultimate hidden state, never the pooled projection"));
                }
                else if (shape.Length == 2)
                {
                    rows.Add(Row(component, name, shape, "text_projection.weight", [shape[1], shape[0]], KeyConversionOp.Transpose));
                }
                else
                {
                    unknown.Add(name);
                }
            }
            else if (OpenClipKeyMap.TryParseLayer(rest, out var layer, out var inLayer) && layer == droppedLayer)
            {
                ignored.Add(new IgnoredKey(name, $"last OpenCLIP layer ({layer}); SD 2.x conditions on the penultimate layer, so the diffusers text encoder stops before it"));
            }
            else if (OpenClipKeyMap.TryParseLayer(rest, out layer, out inLayer) && inLayer is OpenClipKeyMap.InProjWeight or OpenClipKeyMap.InProjBias)
            {
                if (shape.Length is < 1 or > 2 || shape[0] % 3 != 0)
                {
                    unknown.Add(name);
                    return;
                }

                var width = shape[0] / 3;
                long[] part = shape.Length == 2 ? [width, shape[1]] : [width];
                var leaf = inLayer == OpenClipKeyMap.InProjWeight ? "weight" : "bias";
                for (var p = 0; p < 3; p++)
                {
                    rows.Add(Row(component, name, shape, OpenClipKeyMap.HfProjection(layer, OpenClipKeyMap.QkvNames[p], leaf), part, KeyConversionOp.SplitRows) with { RowStart = p * width });
                }
            }
            else
            {
                var target = OpenClipKeyMap.RenameToHf(rest);
                if (target is null)
                {
                    unknown.Add(name);
                }
                else
                {
                    rows.Add(Row(component, name, shape, target, shape, KeyConversionOp.Rename));
                }
            }
        }
    }

    private static KeyConversion? VaeRow(BlockTable vae, string name, long[] shape)
    {
        var target = vae.ToDiffusers(name[OriginalPrefixes.Vae.Length..]);
        if (target is null)
        {
            return null;
        }

        if (VaeKeyMap.IsAttentionProjectionWeight(target) && shape.Length == 4)
        {
            return shape[2] == 1 && shape[3] == 1
                ? Row(SdComponent.Vae, name, shape, target, [shape[0], shape[1]], KeyConversionOp.ConvToLinear)
                : null;
        }

        return Row(SdComponent.Vae, name, shape, target, shape, KeyConversionOp.Rename);
    }

    internal static KeyConversion Row(SdComponent component, string source, long[] sourceShape, string target, long[] targetShape, KeyConversionOp op) =>
        new(component, [source], [sourceShape], target, targetShape, op);
}
