namespace SdTune.Pipelines.Grids;

/// <summary>One picture of a comparison grid: where it goes and what makes it.</summary>
/// <param name="Column">Its column (the X axis, or the prompt matrix's first parts), from 0.</param>
/// <param name="Row">Its row (the Y axis, or the prompt matrix's last parts), from 0.</param>
/// <param name="Panel">Its panel (the Z axis), from 0.</param>
/// <param name="Request">The generation settings of the picture (one image: batch size 1).</param>
/// <param name="Checkpoint">The model file or folder to generate with; null for the command's own model.</param>
public sealed record GridCell(int Column, int Row, int Panel, GenerationRequest Request, string? Checkpoint = null);
