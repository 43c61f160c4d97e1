using SdTune.Checkpoints.Safetensors;

namespace SdTune.Workshop.Merge;

/// <summary>
/// <c>sdtune merge</c>: weighted sum and add difference of single-file checkpoints in the original layout, with
/// per-block α, as A1111's checkpoint merger and SuperMerger compute them. Streamed: the header is written from the
/// inputs' names, types and shapes, then each tensor is read from A, B and C, combined and written before the next,
/// so memory holds a few tensors, never a model.
/// </summary>
/// <remarks>
/// The result has A's keys, in A's types unless <see cref="MergeRecipe.DType"/> says otherwise (noise-schedule buffers
/// keep their precision). Floating-point tensors of the UNet, the text encoders and the VAE are merged (text encoders
/// and VAE with the base α, or copied from A); integer tensors, <c>position_ids</c>, noise-schedule buffers and other
/// keys outside those components are copied from A. A key missing from B or C is kept from A and reported; keys of B
/// or C that A lacks are left out. The file is written to a temporary name and renamed, and never over an input.
/// </remarks>
public static class CheckpointMerge
{
    /// <summary>Merges as <paramref name="recipe"/> says and writes <see cref="MergeRecipe.Output"/>.</summary>
    /// <param name="recipe">The inputs, formula and output.</param>
    /// <param name="progress">Called after each tensor with (tensors done, tensors in all).</param>
    /// <exception cref="ArgumentException">A setting is invalid, the output is an input, or the inputs do not fit together
    /// (different families or shapes, a block-weight vector of the wrong length); the message names the file or option.</exception>
    /// <exception cref="SdTune.IO.CheckpointFormatException">An input is missing, corrupt or no Stable Diffusion checkpoint.</exception>
    public static MergeReport Run(MergeRecipe recipe, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        recipe.Validate();
        using var inputs = MergeInputs.Open(recipe);
        var plan = MergePlan.Build(recipe, inputs);
        var done = 0;
        SafetensorsWriter.Save(recipe.Output, plan.Layout, i =>
        {
            var tensor = plan.Produce(i, inputs);
            progress?.Invoke(++done, plan.Layout.Count);
            return tensor;
        }, plan.Metadata);
        return plan.Report with { Bytes = new FileInfo(recipe.Output).Length };
    }
}
