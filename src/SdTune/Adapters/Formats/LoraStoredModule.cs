namespace SdTune.Adapters.Formats;

/// <summary>One adapter module of a file, matched to a layer of the models, before any tensor is read.</summary>
/// <param name="StoredName">The module name as the file spells it (<c>lora_unet_…</c>, <c>unet.…</c>, <c>….processor.to_q_lora</c>).</param>
/// <param name="Component">Which model the layer belongs to.</param>
/// <param name="ModulePath">The layer's dotted path in that model.</param>
/// <param name="KohyaName">The name kohya's sd-scripts gives the module.</param>
/// <param name="Layer">The layer.</param>
/// <param name="Algorithm">The algorithm its tensor names belong to.</param>
/// <param name="Tensors">The algorithm's tensor names (<c>lora_down.weight</c>, <c>alpha</c>, <c>hada_w1_a</c>, ...) and the stored tensor names they are read from.</param>
public sealed record LoraStoredModule(
    string StoredName,
    LoraComponent Component,
    string ModulePath,
    string KohyaName,
    AdaptedLayer Layer,
    AdapterAlgorithm Algorithm,
    IReadOnlyDictionary<string, string> Tensors)
{
    /// <summary>Whether the file uses kohya's flattened names (<c>lora_unet_…</c>, <c>lora_te…</c>, <c>lycoris_…</c>) for it.</summary>
    public bool HasKohyaName => !StoredName.Contains('.', StringComparison.Ordinal);
}
