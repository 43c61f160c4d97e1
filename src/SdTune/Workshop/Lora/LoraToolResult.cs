namespace SdTune.Workshop.Lora;

/// <summary>What a LoRA tool wrote.</summary>
/// <param name="Output">The file or folder written.</param>
/// <param name="Modules">One row per module written (empty for a bake, which writes a model).</param>
/// <param name="Notes">Things the user should know (skipped text encoders, ...).</param>
public sealed record LoraToolResult(string Output, IReadOnlyList<LoraModuleReport> Modules, IReadOnlyList<string> Notes)
{
    /// <summary>The largest relative error over the modules (0 when there are none).</summary>
    public double MaxRelativeError => Modules.Count == 0 ? 0 : Modules.Max(m => m.RelativeError);
}
