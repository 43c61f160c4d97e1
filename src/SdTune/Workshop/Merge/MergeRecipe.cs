using SdTune.Options;
using static TorchSharp.torch;

namespace SdTune.Workshop.Merge;

/// <summary>
/// What <see cref="CheckpointMerge.Run"/> makes: the input checkpoints, the formula and its α (or per-block α), what
/// happens to the text encoders and the VAE, and the output file. Messages name the options as <c>sdtune merge</c>
/// spells them.
/// </summary>
public sealed record MergeRecipe
{
    /// <summary>Model A: the base of the result. Its key set, key order and (by default) dtypes are the output's.</summary>
    public required string ModelA { get; init; }

    /// <summary>Model B.</summary>
    public required string ModelB { get; init; }

    /// <summary>Model C, subtracted from B in <see cref="MergeMode.AddDifference"/>; null for a weighted sum.</summary>
    public string? ModelC { get; init; }

    /// <summary>The formula.</summary>
    public MergeMode Mode { get; init; } = MergeMode.WeightedSum;

    /// <summary>The base α (every tensor's α without <see cref="BlockWeights"/>); null for <see cref="MergeBlockWeights.DefaultAlpha"/>
    /// or the first of 26 (SDXL: 20) block weights.</summary>
    public double? Alpha { get; init; }

    /// <summary>Per-block α of the UNet (<see cref="MergeBlockWeights.FromVector"/>); null merges every block with the base α.</summary>
    public IReadOnlyList<double>? BlockWeights { get; init; }

    /// <summary>Whether the text encoders are merged (with the base α) or copied from A.</summary>
    public MergeComponentSource TextEncoder { get; init; } = MergeComponentSource.Merge;

    /// <summary>Whether the VAE is merged (with the base α) or copied from A; <see cref="BakeVae"/> replaces it.</summary>
    public MergeComponentSource Vae { get; init; } = MergeComponentSource.Merge;

    /// <summary>A VAE file (original layout, as A1111's VAE files) whose weights replace the result's VAE: A1111's "Bake in VAE".</summary>
    public string? BakeVae { get; init; }

    /// <summary>A regular expression; keys it matches are left out of the result: A1111's "Discard weights with matching name".</summary>
    public string? Discard { get; init; }

    /// <summary>The floating-point type of the result's tensors (fp16, bf16, fp32); null keeps each tensor's type in A.</summary>
    public ScalarType? DType { get; init; }

    /// <summary>The <c>.safetensors</c> file to write (atomically; never one of the inputs).</summary>
    public required string Output { get; init; }

    /// <summary>The inputs read: A, B, and C when given.</summary>
    public IReadOnlyList<string> Models => ModelC is null ? [ModelA, ModelB] : [ModelA, ModelB, ModelC];

    /// <summary>Checks what can be checked without reading the models.</summary>
    /// <exception cref="ArgumentException">A setting is invalid or the output is one of the inputs; the message names the option or file.</exception>
    public void Validate()
    {
        if (Mode == MergeMode.AddDifference && ModelC is null)
        {
            throw new ArgumentException("--mode add-difference needs three models: A + (B - C) * alpha.");
        }

        if (Mode == MergeMode.WeightedSum && ModelC is not null)
        {
            throw new ArgumentException($"--mode weighted-sum takes two models, A and B; {ModelC} is a third (add-difference uses it).");
        }

        if (Alpha is { } alpha && NumericRange.AnyFloat32.Problem(alpha) is { } problem)
        {
            throw new ArgumentException($"--alpha: {problem}");
        }

        foreach (var weight in BlockWeights ?? [])
        {
            if (NumericRange.AnyFloat32.Problem(weight) is { } bad)
            {
                throw new ArgumentException($"--block-weights: {bad}");
            }
        }

        if (DType is { } dtype && dtype is not (ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32))
        {
            throw new ArgumentException($"--dtype must be fp16, bf16 or fp32, not {dtype}.");
        }

        if (BakeVae is not null && Vae == MergeComponentSource.A)
        {
            throw new ArgumentException("--bake-vae replaces the VAE, so --vae a has nothing to do; give one of them.");
        }

        if (!Output.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"--out: {Output}: the merged checkpoint is written as safetensors; name it *.safetensors.");
        }

        foreach (var model in Models.Where(Directory.Exists))
        {
            throw new ArgumentException($"{model}: a folder; sdtune merge reads single-file checkpoints (.safetensors, .ckpt) in the original layout.");
        }

        var output = SamePath.Resolve(Output);
        foreach (var input in BakeVae is null ? Models : [.. Models, BakeVae])
        {
            if (SamePath.Comparer.Equals(output, SamePath.Resolve(input)))
            {
                throw new ArgumentException($"--out: {Output} is one of the inputs; a merge never overwrites an input. Choose another file name.");
            }
        }
    }

    /// <summary>Full paths with links resolved, compared as the file system compares names.</summary>
    private static class SamePath
    {
        public static StringComparer Comparer { get; } = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;

        /// <summary>The full path with a link to the file, or to its folder, followed.</summary>
        public static string Resolve(string path)
        {
            var full = Path.GetFullPath(path);
            try
            {
                if (File.ResolveLinkTarget(full, returnFinalTarget: true) is { } target)
                {
                    return target.FullName;
                }

                var folder = Path.GetDirectoryName(full);
                return folder is not null && Directory.ResolveLinkTarget(folder, returnFinalTarget: true) is { } real
                    ? Path.Combine(real.FullName, Path.GetFileName(full))
                    : full;
            }
            catch (IOException)
            {
                return full;
            }
        }
    }
}
