namespace SdTune.Adapters;

/// <summary>One adapted layer of a network.</summary>
/// <param name="Name">The module's name in the network (kohya's <c>lora_unet_…</c>/<c>lora_te…</c> name).</param>
/// <param name="Component">Which model the layer belongs to.</param>
/// <param name="ModulePath">The layer's dotted path in that model (<c>down_blocks.0.attentions.0.proj_in</c>).</param>
/// <param name="Module">The adapter.</param>
public sealed record LoraNetworkEntry(string Name, LoraComponent Component, string ModulePath, AdapterModule Module);
