using System.Diagnostics;

namespace SdTune.Pipelines.Grids;

/// <summary>A model opened for a grid's cells: the pipeline, and what to dispose with it (the model it runs).</summary>
/// <param name="Pipeline">The pipeline the cells generate with.</param>
/// <param name="Owner">Disposed after the pipeline (the loaded model); null when the caller keeps the model.</param>
public sealed record GridModel(StableDiffusionPipeline Pipeline, IDisposable? Owner = null) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        Pipeline.Dispose();
        Owner?.Dispose();
    }
}

/// <summary>Progress of a grid: sampling step <paramref name="Step"/> of <paramref name="Steps"/> of cell <paramref name="Cell"/> (from 1) of <paramref name="Cells"/>.</summary>
public sealed record GridProgress(int Cell, int Cells, int Step, int Steps);

/// <summary>Generates the cells of a <see cref="GridPlan"/>, each model (checkpoint) opened once.</summary>
public static class GridRunner
{
    /// <summary>
    /// Generates every cell, in <see cref="GridPlan.GenerationOrder"/>: the cells of one checkpoint together (the
    /// model opened once, and disposed before the next is opened), and within them the cells of one LoRA file together
    /// (each file read once for them: <see cref="StableDiffusionPipeline.HoldLoraFiles"/>).
    /// </summary>
    /// <param name="plan">The grid.</param>
    /// <param name="open">Opens the pipeline of a checkpoint (null: the command's own model).</param>
    /// <param name="progress">Called after every sampling step.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    /// <returns>One image per cell, in the plan's cell order, with the warnings of all cells (each once) and the summed timings.</returns>
    public static GenerationResult Run(GridPlan plan, Func<string?, GridModel> open, Action<GridProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(open);
        var clock = Stopwatch.StartNew();
        var images = new GeneratedImage?[plan.Cells.Count];
        var warnings = new List<string>();
        var (sampling, unet, unetCalls) = (TimeSpan.Zero, TimeSpan.Zero, 0);
        GridModel? model = null;
        string? modelCheckpoint = null;
        IDisposable? loraHold = null;
        string? heldLoras = null;
        var done = 0;
        try
        {
            foreach (var index in plan.GenerationOrder())
            {
                var cell = plan.Cells[index];
                if (model is null || !string.Equals(modelCheckpoint, cell.Checkpoint, StringComparison.Ordinal))
                {
                    loraHold?.Dispose();
                    loraHold = null;
                    model?.Dispose();
                    model = null;
                    model = open(cell.Checkpoint);
                    modelCheckpoint = cell.Checkpoint;
                }

                // The LoRA files of a run of cells that share them are read once.
                var loras = GridPlan.LoraKey(cell);
                if (loraHold is null || heldLoras != loras)
                {
                    loraHold?.Dispose();
                    loraHold = model.Pipeline.HoldLoraFiles();
                    heldLoras = loras;
                }

                var number = ++done;
                using var result = model.Pipeline.Generate(cell.Request with { BatchSize = 1 }, p => progress?.Invoke(new GridProgress(number, plan.Cells.Count, p.Step, p.Total)), cancellationToken);
                var image = result.Images[0];
                images[index] = image with { Image = image.Image.Copy() };
                warnings.AddRange(result.Warnings.Where(w => !warnings.Contains(w)));
                (sampling, unet, unetCalls) = (sampling + result.Sampling, unet + result.Unet, unetCalls + result.UnetCalls);
            }
        }
        catch
        {
            foreach (var image in images)
            {
                image?.Image.Dispose();
            }

            throw;
        }
        finally
        {
            loraHold?.Dispose();
            model?.Dispose();
        }

        return new GenerationResult([.. images.Select(i => i!)], warnings, clock.Elapsed, sampling, unet, unetCalls);
    }
}
