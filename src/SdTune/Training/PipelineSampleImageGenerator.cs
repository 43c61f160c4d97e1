using SdTune.Imaging;
using SdTune.Models;
using SdTune.Pipelines;

namespace SdTune.Training;

/// <summary>
/// Makes the trainer's sample images (and DreamBooth's class images) with the generation pipeline: each job's
/// prompt, size, steps, CFG, seed (random when unset) and controls, written as a PNG with A1111's parameters.
/// </summary>
/// <param name="sampler">The sampler for every job (kohya's default for samples is DDIM; A1111's is Euler a).</param>
/// <param name="options">Embeddings/LoRA folders and model naming for the infotext.</param>
public sealed class PipelineSampleImageGenerator(string sampler = "Euler a", PipelineOptions? options = null) : ISampleImageGenerator
{
    /// <inheritdoc />
    public void Generate(StableDiffusionModel model, IReadOnlyList<SampleImageJob> jobs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(jobs);
        using var pipeline = new StableDiffusionPipeline(model, options);
        foreach (var job in jobs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var prompt = job.Prompt;
            var request = new GenerationRequest
            {
                Prompt = prompt.Prompt,
                NegativePrompt = prompt.NegativePrompt,
                Width = prompt.Width,
                Height = prompt.Height,
                Steps = prompt.Steps,
                CfgScale = prompt.CfgScale,
                Seed = prompt.Seed ?? -1,
                Sampler = sampler,
                Controls = job.Controls ?? [],
            };
            using var result = pipeline.Generate(request, cancellationToken: cancellationToken);
            var image = result.Images[0];
            PngWriter.Save(job.OutputPath, image.Image, new Dictionary<string, string> { ["parameters"] = image.Infotext.ToText() });
        }
    }
}
