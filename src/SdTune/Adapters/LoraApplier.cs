using SdTune.Adapters.Formats;

namespace SdTune.Adapters;

/// <summary>
/// Applies adapter files for inference, as A1111's <c>&lt;lora:name:te:unet&gt;</c> does: text-encoder modules with one
/// weight and UNet modules with another. Several files stack (each adds its own delta).
/// </summary>
public static class LoraApplier
{
    /// <summary>Reads <paramref name="path"/> (any layout <see cref="LoraFileReader"/> knows) and applies it.</summary>
    /// <param name="targets">The models.</param>
    /// <param name="path">The adapter file.</param>
    /// <param name="textEncoderWeight">Multiplier of the text-encoder modules.</param>
    /// <param name="unetWeight">Multiplier of the UNet modules.</param>
    /// <param name="mode">Hooks (exact removal) or merging (faster steps).</param>
    /// <param name="blockWeights">Optional per-block UNet weights (<see cref="LoraBlockWeights"/>: 12, 17, 20 or 26 values), multiplied into <paramref name="unetWeight"/>.</param>
    /// <returns>The applied file; dispose it to remove it. Its <see cref="LoraFile.UnmatchedKeys"/> lists what was not applied.</returns>
    public static AppliedLora Apply(LoraTargets targets, string path, double textEncoderWeight = 1.0, double unetWeight = 1.0,
        LoraApplyMode mode = LoraApplyMode.Hooks, IReadOnlyList<double>? blockWeights = null)
        => Apply(targets, LoraFileReader.Read(path, targets), textEncoderWeight, unetWeight, mode, blockWeights);

    /// <summary>
    /// Applies a file already read for these <paramref name="targets"/> (and not applied now): its multipliers are set
    /// afresh. <see cref="AppliedLora.Remove"/> takes it off and leaves it to be applied again;
    /// <see cref="AppliedLora.Dispose"/> also frees it.
    /// </summary>
    /// <param name="targets">The models the file was read for.</param>
    /// <param name="file">The file.</param>
    /// <param name="textEncoderWeight">Multiplier of the text-encoder modules.</param>
    /// <param name="unetWeight">Multiplier of the UNet modules.</param>
    /// <param name="mode">Hooks (exact removal) or merging (faster steps).</param>
    /// <param name="blockWeights">Optional per-block UNet weights, multiplied into <paramref name="unetWeight"/>.</param>
    /// <returns>The applied file.</returns>
    public static AppliedLora Apply(LoraTargets targets, LoraFile file, double textEncoderWeight = 1.0, double unetWeight = 1.0,
        LoraApplyMode mode = LoraApplyMode.Hooks, IReadOnlyList<double>? blockWeights = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        file.Network.SetMultipliers(textEncoderWeight, unetWeight);
        if (blockWeights is not null)
        {
            var blocks = new LoraBlockWeights(targets, blockWeights);
            foreach (var entry in file.Network.Entries)
            {
                entry.Module.Multiplier *= entry.Component == LoraComponent.Unet ? blocks.WeightOf(entry.ModulePath) : blocks.Base;
            }
        }

        if (mode == LoraApplyMode.Merge)
        {
            file.Network.Merge();
        }
        else
        {
            file.Network.Attach();
        }

        return new AppliedLora(file, mode);
    }
}
