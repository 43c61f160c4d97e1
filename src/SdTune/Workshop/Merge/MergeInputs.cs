using SdTune.Checkpoints;
using SdTune.Checkpoints.SingleFile;
using SdTune.Models;

namespace SdTune.Workshop.Merge;

/// <summary>
/// The opened inputs of a merge: models A, B and C and the VAE to bake in, each an <see cref="ITensorSource"/> (names,
/// types and shapes now, one tensor at a time later), with the family of A and the check that B and C share it.
/// </summary>
internal sealed class MergeInputs : IDisposable
{
    private readonly List<ITensorSource> opened = [];

    private MergeInputs()
    {
    }

    /// <summary>Model A.</summary>
    public ITensorSource A { get; private set; } = null!;

    /// <summary>Model B.</summary>
    public ITensorSource B { get; private set; } = null!;

    /// <summary>Model C, or null.</summary>
    public ITensorSource? C { get; private set; }

    /// <summary>The VAE to bake in, or null.</summary>
    public ITensorSource? Vae { get; private set; }

    /// <summary>What A is (family, inpainting, components).</summary>
    public SingleFileDetection Detection { get; private set; } = null!;

    /// <summary>B, then C when given: the models merged into A.</summary>
    public IEnumerable<ITensorSource> Others => C is null ? [B] : [B, C];

    /// <summary>Opens every input and checks that B and C are checkpoints of A's family.</summary>
    /// <exception cref="ArgumentException">B or C is of another family than A; the message names the file.</exception>
    /// <exception cref="SdTune.IO.CheckpointFormatException">An input is no Stable Diffusion checkpoint in the original layout, or is corrupt.</exception>
    public static MergeInputs Open(MergeRecipe recipe)
    {
        var inputs = new MergeInputs();
        try
        {
            inputs.A = inputs.Add(recipe.ModelA);
            inputs.B = inputs.Add(recipe.ModelB);
            inputs.C = recipe.ModelC is null ? null : inputs.Add(recipe.ModelC);
            inputs.Vae = recipe.BakeVae is null ? null : inputs.Add(recipe.BakeVae);
            inputs.Detection = SingleFileInspector.Detect(inputs.A);
            foreach (var other in inputs.Others)
            {
                var detection = SingleFileInspector.Detect(other);
                if (detection.Architecture != inputs.Detection.Architecture)
                {
                    throw new ArgumentException(
                        $"{other.Path}: an {Name(detection.Architecture)} checkpoint, but {inputs.A.Path} (model A) is {Name(inputs.Detection.Architecture)}; " +
                        "checkpoints of different architectures cannot be merged.");
                }
            }

            return inputs;
        }
        catch
        {
            inputs.Dispose();
            throw;
        }
    }

    /// <summary>The family as people write it: "SD 1.x", "SDXL base".</summary>
    public static string Name(SdArchitecture architecture) => architecture switch
    {
        SdArchitecture.SD1 => "SD 1.x",
        SdArchitecture.SD2 => "SD 2.x",
        SdArchitecture.SdxlBase => "SDXL base",
        _ => "SDXL refiner",
    };

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var source in opened)
        {
            source.Dispose();
        }

        opened.Clear();
    }

    private ITensorSource Add(string path)
    {
        var source = TensorSources.Open(path);
        opened.Add(source);
        return source;
    }
}
