namespace SdTune.Pipelines.Grids;

/// <summary>
/// What a comparison grid generates and how it is laid out: <see cref="Columns"/> × <see cref="Rows"/> pictures per
/// panel, one panel per Z value side by side, each label above its column, left of its row or above its panel.
/// </summary>
public sealed record GridPlan
{
    /// <summary>The cells in display order: panel by panel, row by row, left to right.</summary>
    public required IReadOnlyList<GridCell> Cells { get; init; }

    /// <summary>Pictures per row of a panel.</summary>
    public required int Columns { get; init; }

    /// <summary>Rows of a panel.</summary>
    public required int Rows { get; init; }

    /// <summary>Number of panels.</summary>
    public int Panels => Cells.Count / (Columns * Rows);

    /// <summary>One label per column, or none.</summary>
    public IReadOnlyList<string> ColumnLabels { get; init; } = [];

    /// <summary>One label per row, or none.</summary>
    public IReadOnlyList<string> RowLabels { get; init; } = [];

    /// <summary>One label per panel, or none.</summary>
    public IReadOnlyList<string> PanelLabels { get; init; } = [];

    /// <summary>
    /// The order to generate the cells in (indexes into <see cref="Cells"/>): grouped by checkpoint, then by LoRA
    /// file, each group in the order it first appears, so that each model is loaded once.
    /// </summary>
    public IReadOnlyList<int> GenerationOrder()
    {
        var checkpoints = Cells.Select(c => c.Checkpoint ?? "").Distinct(StringComparer.Ordinal).ToList();
        var loras = Cells.Select(LoraKey).Distinct(StringComparer.Ordinal).ToList();
        return [.. Enumerable.Range(0, Cells.Count)
            .OrderBy(i => checkpoints.IndexOf(Cells[i].Checkpoint ?? ""))
            .ThenBy(i => loras.IndexOf(LoraKey(Cells[i])))];
    }

    /// <summary>What tells the LoRA files of a cell apart: their paths or names, in order.</summary>
    internal static string LoraKey(GridCell cell) => string.Join("\n", cell.Request.Loras.Select(l => l.NameOrPath));
}
