using System.Globalization;
using SdTune.Training.Data;
using static TorchSharp.torch;

namespace SdTune.Training.Methods;

/// <summary>Class images for prior preservation (DreamBooth, Custom Diffusion): those the class folder lacks are generated.</summary>
internal static class ClassImages
{
    /// <summary>
    /// With prior preservation on an instance/class folder layout, makes sure the class folder holds
    /// <c>num_class_images</c> images, generating the missing ones with the base model (seeded per image).
    /// </summary>
    /// <exception cref="TrainingConfigException">Images are missing and no generator is available.</exception>
    public static void Ensure(TrainingContext context)
    {
        var config = context.Config;
        if (!config.WithPriorPreservation || config.ClassDataDir is not { } folder)
        {
            return;
        }

        var existing = Directory.Exists(folder) ? ImageFiles.List(folder).Count : 0;
        var missing = config.NumClassImages - existing;
        if (missing <= 0)
        {
            return;
        }

        if (context.ImageGenerator is not { } generator)
        {
            throw new TrainingConfigException("class_data_dir",
                $"{folder} holds {existing} of the {config.NumClassImages} class images (num_class_images) and no image generator is available to make the rest: " +
                $"add {missing} images of \"{config.ClassPrompt}\" to the folder, or lower num_class_images.");
        }

        Directory.CreateDirectory(folder);
        var size = config.ResolutionSize ?? throw new InvalidOperationException("The configuration is not resolved against the model.");
        var jobs = new List<SampleImageJob>(missing);
        for (var i = 0; i < missing; i++)
        {
            var index = existing + i;
            var prompt = new SamplePrompt(config.ClassPrompt!, Width: size.Width, Height: size.Width, Seed: ClassImageSeed(config.Seed, index));
            jobs.Add(new SampleImageJob(prompt, Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"class-{index:D6}.png"))));
        }

        using (no_grad())
        {
            foreach (var module in context.Model.Modules)
            {
                module.eval();
            }

            generator.Generate(context.Model, jobs);
        }

        var now = ImageFiles.List(folder).Count;
        if (now < config.NumClassImages)
        {
            throw new InvalidOperationException($"{folder}: the image generator was asked for {missing} class images but the folder now holds {now} of {config.NumClassImages}.");
        }

        context.Warnings.Add($"Generated {missing} class images of \"{config.ClassPrompt}\" in {folder}.");
    }

    private static long ClassImageSeed(long seed, int index) => unchecked((long)SeededRandom.For(seed, 4, index).NextUInt64() & 0xFFFFFFFFL);
}
