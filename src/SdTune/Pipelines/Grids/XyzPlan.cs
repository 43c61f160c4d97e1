namespace SdTune.Pipelines.Grids;

/// <summary>The text of one axis as given: which axis (<c>--x</c>, <c>--y</c>, <c>--z</c>), its type and its values.</summary>
/// <param name="Option">The option prefix errors name (<c>--x</c>).</param>
/// <param name="Type">The axis type's name or alias.</param>
/// <param name="Values">The values.</param>
public sealed record XyzAxisText(string Option, string Type, string Values);

/// <summary>
/// A1111's X/Y/Z plot: up to three axes, each a setting and its values. X varies across the columns, Y down the rows,
/// Z from panel to panel; a missing axis has one value, the request's own. Every cell is the request with each axis's
/// value applied (in <see cref="XyzAxisTypes"/> order); a random seed (negative) is drawn once, so every cell shares it.
/// Labels: <c>CFG Scale: 7</c> for settings, the value alone for samplers, Prompt S/R, checkpoints and LoRA files.
/// </summary>
public static class XyzPlan
{
    /// <summary>The most cells a plot may have.</summary>
    public const int MaxCells = 4096;

    /// <summary>Plans the grid of up to three axes (null for an axis not given).</summary>
    /// <param name="baseRequest">The settings every cell starts from.</param>
    /// <param name="x">The X axis, or null.</param>
    /// <param name="y">The Y axis, or null.</param>
    /// <param name="z">The Z axis, or null.</param>
    /// <param name="loraFolder">Where LoRA-file values are looked up by name.</param>
    /// <param name="randomSeed">Draws random seeds (tests pass their own).</param>
    /// <exception cref="ArgumentException">No axis, an axis type given twice, too many cells, or a bad type or value (the message names the option).</exception>
    /// <exception cref="FileNotFoundException">A LoRA file or checkpoint value names no file.</exception>
    public static GridPlan Create(GenerationRequest baseRequest, XyzAxisText? x, XyzAxisText? y = null, XyzAxisText? z = null, string? loraFolder = null, Func<long>? randomSeed = null)
    {
        ArgumentNullException.ThrowIfNull(baseRequest);
        var draw = randomSeed ?? GridSeeds.Random;
        var request = baseRequest with { BatchSize = 1, Seed = baseRequest.Seed >= 0 ? baseRequest.Seed : draw() };
        var context = new XyzAxisContext(request, loraFolder, draw);
        var texts = new[] { x, y, z };
        if (texts.All(t => t is null))
        {
            throw new ArgumentException("An X/Y/Z plot needs at least one axis (--x-type and --x-values).");
        }

        var axes = texts.Select(t => t is null ? null : XyzAxis.Parse(t.Option, t.Type, t.Values, context)).ToArray();
        for (var i = 0; i < 3; i++)
        {
            for (var j = i + 1; j < 3; j++)
            {
                if (axes[i] is { } a && axes[j] is { } b && a.Type == b.Type)
                {
                    throw new ArgumentException($"{texts[j]!.Option}-type: the {b.Type.Name} axis is already {texts[i]!.Option}; each setting can vary along one axis.");
                }
            }
        }

        var (columns, rows, panels) = (axes[0]?.Values.Count ?? 1, axes[1]?.Values.Count ?? 1, axes[2]?.Values.Count ?? 1);
        if ((long)columns * rows * panels > MaxCells)
        {
            throw new ArgumentException($"The plot has {columns} x {rows} x {panels} = {(long)columns * rows * panels} cells; at most {MaxCells}.");
        }

        // Cells apply their axes' values in the registry's order, whatever axis each is on.
        var applied = axes.Select((axis, index) => (Axis: axis, Index: index)).Where(a => a.Axis is not null)
            .OrderBy(a => XyzAxisTypes.OrderOf(a.Axis!.Type)).ToList();
        var cells = new List<GridCell>();
        for (var panel = 0; panel < panels; panel++)
        {
            for (var row = 0; row < rows; row++)
            {
                for (var column = 0; column < columns; column++)
                {
                    int[] position = [column, row, panel];
                    var cell = new GridCell(column, row, panel, request);
                    foreach (var (axis, index) in applied)
                    {
                        cell = axis!.Type.Apply(cell, axis.Values[position[index]]);
                    }

                    cells.Add(cell);
                }
            }
        }

        if (applied.FirstOrDefault(a => a.Axis!.Type.Alias == "lora-weight") is { Axis: not null } weight && cells.All(c => c.Request.Loras.Count == 0))
        {
            throw new ArgumentException($"{texts[weight.Index]!.Option}-type: the LoRA weight axis weighs the --lora files and the LoRA file axis's files, and there are none.");
        }

        return new GridPlan
        {
            Cells = cells,
            Columns = columns,
            Rows = rows,
            ColumnLabels = axes[0]?.Labels ?? [],
            RowLabels = axes[1]?.Labels ?? [],
            PanelLabels = axes[2]?.Labels ?? [],
        };
    }
}
