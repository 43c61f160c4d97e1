using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SdTune.Checkpoints;
using SdTune.Checkpoints.Inspection;
using SdTune.Checkpoints.Safetensors;
using SdTune.Checkpoints.SingleFile;
using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Workshop.Merge;

/// <summary>
/// Every tensor of the result decided before any is read: its name, type and shape (the safetensors header) and how
/// it is made. All checks between the inputs (shapes, types, vector length) happen here, so a bad merge fails before
/// anything is written.
/// </summary>
internal sealed class MergePlan
{
    private const string InputConvolution = OriginalPrefixes.Unet + "input_blocks.0.0.weight";
    private const string RecipeKey = "sd_merge_recipe";

    private static readonly string[] TextEncoderPrefixes =
    [
        OriginalPrefixes.Sd1TextEncoder, OriginalPrefixes.Sd2TextEncoder, OriginalPrefixes.SdxlTextEncoder,
        OriginalPrefixes.SdxlTextEncoder2, OriginalPrefixes.SdxlRefinerTextEncoder,
    ];

    private readonly MergeRecipe recipe;
    private readonly List<SafetensorsTensorLayout> layout = [];
    private readonly List<Step> steps = [];

    private MergePlan(MergeRecipe recipe) => this.recipe = recipe;

    private enum StepKind
    {
        CopyA,
        Merge,
        MergeLeadingChannels,
        Bake,
    }

    private enum Part
    {
        Unet,
        TextEncoder,
        Vae,
        Other,
    }

    /// <summary>Name, type and shape of every output tensor, in A's order.</summary>
    public IReadOnlyList<SafetensorsTensorLayout> Layout => layout;

    /// <summary>The output's metadata: A's, with the merge recipe.</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>The report, without the output's size.</summary>
    public MergeReport Report { get; private set; } = null!;

    /// <summary>Plans the merge of <paramref name="inputs"/>.</summary>
    /// <exception cref="ArgumentException">The inputs do not fit together, or an option does not fit them; the message names the file or option.</exception>
    /// <exception cref="CheckpointFormatException">A's UNet has no regular block layout, or a tensor type cannot be stored.</exception>
    public static MergePlan Build(MergeRecipe recipe, MergeInputs inputs)
    {
        var plan = new MergePlan(recipe);
        plan.Fill(inputs);
        return plan;
    }

    /// <summary>Makes output tensor <paramref name="index"/>, reading what it needs from the inputs.</summary>
    public Tensor Produce(int index, MergeInputs inputs)
    {
        var step = steps[index];
        var target = layout[index].DType.ToScalarType();
        using var scope = NewDisposeScope();
        var result = step.Kind switch
        {
            StepKind.CopyA => inputs.A.Read(step.Key),
            StepKind.Bake => inputs.Vae!.Read(step.SourceKey!),
            StepKind.Merge => MergeMath.Combine(recipe.Mode, inputs.A.Read(step.Key), inputs.B.Read(step.Key), inputs.C?.Read(step.Key), step.Alpha),
            _ => MergeMath.CombineLeadingChannels(recipe.Mode, inputs.A.Read(step.Key), inputs.B.Read(step.Key), inputs.C?.Read(step.Key), step.Alpha),
        };
        return (result.dtype == target ? result : result.to_type(target)).contiguous().MoveToOuterDisposeScope();
    }

    private void Fill(MergeInputs inputs)
    {
        var a = inputs.A;
        int blocksPerSide;
        try
        {
            blocksPerSide = MergeBlockWeights.BlocksPerSideOf(a.Entries.Select(e => e.Name));
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointFormatException(a.Path, e.Message);
        }

        var model = $"{a.Path} ({MergeInputs.Name(inputs.Detection.Architecture)})";
        var weights = recipe.BlockWeights is { } vector
            ? MergeBlockWeights.FromVector(vector, blocksPerSide, recipe.Alpha, model)
            : MergeBlockWeights.Uniform(blocksPerSide, recipe.Alpha ?? MergeBlockWeights.DefaultAlpha);
        var discard = DiscardPattern();
        var baked = BakedVaeKeys(inputs);
        var others = inputs.Others.Select(s => (s.Path, Entries: s.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal))).ToList();
        var onlyInA = new List<string>();
        var (merged, copied, discarded, leading) = (0, 0, 0, false);
        foreach (var entry in a.Entries)
        {
            if (discard?.IsMatch(entry.Name) == true)
            {
                discarded++;
                continue;
            }

            var dtype = StoredType(a.Path, entry);
            // Noise-schedule buffers and other wrapper tensors keep their precision.
            var output = IsFloat(dtype) && PartOf(entry.Name) != Part.Other && recipe.DType is { } wanted ? SafetensorsDTypes.FromScalarType(wanted) : dtype;
            layout.Add(new SafetensorsTensorLayout(entry.Name, output, entry.Shape));
            if (baked.TryGetValue(entry.Name, out var vaeKey))
            {
                steps.Add(new Step(entry.Name, StepKind.Bake, 0, vaeKey));
                continue;
            }

            if (!IsMerged(entry.Name, dtype))
            {
                steps.Add(new Step(entry.Name, StepKind.CopyA, 0, null));
                copied++;
                continue;
            }

            if (others.Any(o => !o.Entries.ContainsKey(entry.Name)))
            {
                steps.Add(new Step(entry.Name, StepKind.CopyA, 0, null));
                onlyInA.Add(entry.Name);
                continue;
            }

            var leadingOnly = others.Select(o => Fits(a.Path, entry, o.Path, o.Entries[entry.Name])).Distinct().ToList();
            if (leadingOnly.Count > 1)
            {
                throw new ArgumentException($"{inputs.C!.Path}: tensor '{entry.Name}' has [{string.Join(", ", others[1].Entries[entry.Name].Shape)}] and B has [{string.Join(", ", others[0].Entries[entry.Name].Shape)}]; B and C must have the same shapes.");
            }

            var kind = leadingOnly[0] ? StepKind.MergeLeadingChannels : StepKind.Merge;
            leading |= kind == StepKind.MergeLeadingChannels;
            steps.Add(new Step(entry.Name, kind, weights.AlphaOf(entry.Name), null));
            merged++;
        }

        var notInA = others.SelectMany(o => o.Entries.Keys)
            .Where(k => PartOf(k) != Part.Other && !a.Contains(k)).Distinct(StringComparer.Ordinal).Count();
        Report = new MergeReport
        {
            Output = recipe.Output,
            Architecture = inputs.Detection.Architecture,
            Weights = weights,
            Tensors = layout.Count,
            Merged = merged,
            CopiedFromA = copied,
            OnlyInA = onlyInA,
            NotInA = notInA,
            Discarded = discarded,
            BakedVae = baked.Count,
            LeadingChannelsOnly = leading,
        };
        FillMetadata(a, weights);
    }

    /// <summary>Whether a key of A is computed from the inputs (else copied from A).</summary>
    private bool IsMerged(string key, SafetensorsDType dtype) => IsFloat(dtype) && !key.EndsWith("position_ids", StringComparison.Ordinal) && PartOf(key) switch
    {
        Part.Unet => true,
        Part.TextEncoder => recipe.TextEncoder == MergeComponentSource.Merge,
        Part.Vae => recipe.Vae == MergeComponentSource.Merge,
        _ => false,
    };

    /// <summary>
    /// Checks that B's (or C's) tensor can be merged into A's: same shape and a floating-point type; true when only
    /// the leading channels can (an inpainting A with a plain B).
    /// </summary>
    private static bool Fits(string pathA, TensorEntry a, string path, TensorEntry other)
    {
        if (!IsFloat(StoredType(path, other)))
        {
            throw new ArgumentException($"{path}: tensor '{a.Name}' is {other.DType}, but {a.DType} in {pathA} (model A); it cannot be merged.");
        }

        if (a.Shape.SequenceEqual(other.Shape))
        {
            return false;
        }

        var sameButChannels = a.Name == InputConvolution && a.Shape.Count == 4 && other.Shape.Count == 4 &&
            a.Shape[0] == other.Shape[0] && a.Shape.Skip(2).SequenceEqual(other.Shape.Skip(2));
        if (sameButChannels && a.Shape[1] is 8 or 9 && other.Shape[1] == 4)
        {
            return true;
        }

        if (sameButChannels && other.Shape[1] > a.Shape[1])
        {
            throw new ArgumentException(
                $"{path}: its UNet takes {other.Shape[1]} input channels (inpainting or instruct-pix2pix) and {pathA} (model A) takes {a.Shape[1]}; " +
                "to merge such a model with a plain one, give it as model A.");
        }

        throw new ArgumentException(
            $"{path}: tensor '{a.Name}' has shape [{string.Join(", ", other.Shape)}], but [{string.Join(", ", a.Shape)}] in {pathA} (model A); " +
            "the checkpoints do not have the same architecture.");
    }

    private Regex? DiscardPattern()
    {
        if (recipe.Discard is null)
        {
            return null;
        }

        try
        {
            return new Regex(recipe.Discard, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"--discard: '{recipe.Discard}' is not a regular expression: {e.Message}");
        }
    }

    /// <summary>Output key → key in the VAE file, for every VAE tensor of A the file replaces (A1111's "Bake in VAE").</summary>
    private static Dictionary<string, string> BakedVaeKeys(MergeInputs inputs)
    {
        var baked = new Dictionary<string, string>(StringComparer.Ordinal);
        if (inputs.Vae is not { } vae)
        {
            return baked;
        }

        var a = inputs.A.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        foreach (var entry in vae.Entries.Where(e => !e.Name.StartsWith("loss", StringComparison.Ordinal)))
        {
            var target = entry.Name.StartsWith(OriginalPrefixes.Vae, StringComparison.Ordinal) ? entry.Name : OriginalPrefixes.Vae + entry.Name;
            if (!a.TryGetValue(target, out var existing))
            {
                continue;
            }

            if (!existing.Shape.SequenceEqual(entry.Shape) || !IsFloat(StoredType(vae.Path, entry)))
            {
                throw new ArgumentException(
                    $"{vae.Path}: VAE tensor '{entry.Name}' is {entry.DType} [{string.Join(", ", entry.Shape)}], but the checkpoint's is {existing.DType} [{string.Join(", ", existing.Shape)}]; it is a VAE of another model.");
            }

            baked[target] = entry.Name;
        }

        if (baked.Count == 0)
        {
            throw new ArgumentException(
                $"{vae.Path}: none of its tensors is a VAE weight of {inputs.A.Path} (expected the original layout, such as 'encoder.conv_in.weight'); a diffusers-layout VAE cannot be baked in.");
        }

        return baked;
    }

    private void FillMetadata(ITensorSource a, MergeBlockWeights weights)
    {
        foreach (var (key, value) in a.Metadata.Where(m => m.Key != RecipeKey && m.Key != "sd_merge_models"))
        {
            Metadata[key] = value;
        }

        Metadata.TryAdd("format", "pt");
        var blocks = MergeBlockWeights.Blocks(weights.BlocksPerSide);
        Metadata[RecipeKey] = new JsonObject
        {
            ["type"] = "sdtune",
            ["mode"] = recipe.Mode == MergeMode.WeightedSum ? "weighted-sum" : "add-difference",
            ["alpha"] = weights.Base,
            ["block_weights"] = recipe.BlockWeights is null ? null : new JsonArray([.. blocks.Select(b => JsonValue.Create(weights[b]))]),
            ["model_a"] = Path.GetFileName(recipe.ModelA),
            ["model_b"] = Path.GetFileName(recipe.ModelB),
            ["model_c"] = recipe.ModelC is null ? null : Path.GetFileName(recipe.ModelC),
            ["text_encoder"] = recipe.TextEncoder == MergeComponentSource.Merge ? "merge" : "a",
            ["vae"] = recipe.BakeVae is not null ? Path.GetFileName(recipe.BakeVae) : recipe.Vae == MergeComponentSource.Merge ? "merge" : "a",
            ["discard"] = recipe.Discard,
            ["dtype"] = recipe.DType?.ToString(),
        }.ToJsonString();
    }

    private static Part PartOf(string key) =>
        key.StartsWith(OriginalPrefixes.Unet, StringComparison.Ordinal) ? Part.Unet
        : key.StartsWith(OriginalPrefixes.Vae, StringComparison.Ordinal) ? Part.Vae
        : TextEncoderPrefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal)) ? Part.TextEncoder
        : Part.Other;

    private static SafetensorsDType StoredType(string path, TensorEntry entry) =>
        SafetensorsDTypes.TryParse(entry.DType, out var dtype)
            ? dtype
            : throw new CheckpointFormatException(path, $"tensor '{entry.Name}' is of type {entry.DType}, which a safetensors file cannot hold.");

    private static bool IsFloat(SafetensorsDType dtype) => dtype is SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F32 or SafetensorsDType.F64;

    private sealed record Step(string Key, StepKind Kind, double Alpha, string? SourceKey);
}
