using System.Globalization;
using SdTune.Checkpoints.SingleFile;

namespace SdTune.Workshop.Merge;

/// <summary>
/// The α of every tensor of a merge: one per numbered UNet block of the original layout (MBW, "merge block weighted",
/// as SuperMerger and the A1111 block-merge extensions use it) plus a base α for everything else.
/// </summary>
/// <remarks>
/// Blocks are read from the key: <c>model.diffusion_model.input_blocks.N.</c> is INnn, <c>middle_block.</c> M00,
/// <c>output_blocks.N.</c> OUTnn. SD 1.x/2.x UNets have 12 input and 12 output blocks (25 block weights), SDXL 9 and 9
/// (19, SuperMerger's SDXL vector). The base α weights the UNet's keys outside the numbered blocks (<c>time_embed</c>,
/// SDXL's <c>label_emb</c>, the final <c>out.</c> norm and convolution) and the text encoders and VAE when they are
/// merged. SuperMerger differs there: it weights <c>out.</c> with the last OUT block and leaves SDXL's time and label
/// embeddings at model A.
/// </remarks>
public sealed class MergeBlockWeights
{
    /// <summary>The base α when none is given: SuperMerger's default.</summary>
    public const double DefaultAlpha = 0.5;

    private readonly double[] blocks;

    private MergeBlockWeights(int blocksPerSide, double baseAlpha, double[] blocks)
    {
        BlocksPerSide = blocksPerSide;
        Base = baseAlpha;
        this.blocks = blocks;
    }

    /// <summary>Input blocks of the UNet, and as many output blocks: 12 for SD 1.x/2.x, 9 for SDXL.</summary>
    public int BlocksPerSide { get; }

    /// <summary>The α of every tensor outside the numbered UNet blocks.</summary>
    public double Base { get; }

    /// <summary>The α of one block.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The UNet has no such block.</exception>
    public double this[MergeBlock block] => blocks[Slot(block)];

    /// <summary>The same α everywhere: a plain merge.</summary>
    public static MergeBlockWeights Uniform(int blocksPerSide, double alpha) =>
        new(blocksPerSide, alpha, Enumerable.Repeat(alpha, 2 * blocksPerSide + 1).ToArray());

    /// <summary>
    /// Reads a block-weight vector: <c>2n + 1</c> values (IN00…, M00, OUT00…, the base α from
    /// <paramref name="baseAlpha"/>) or <c>2n + 2</c> values with BASE first, as SuperMerger writes them.
    /// </summary>
    /// <param name="vector">The values, in block order.</param>
    /// <param name="blocksPerSide">The UNet's input blocks (<see cref="BlocksPerSideOf"/>).</param>
    /// <param name="baseAlpha">The base α given on its own; null for <see cref="DefaultAlpha"/>, or when the vector starts with BASE.</param>
    /// <param name="model">The model the UNet belongs to, for messages ("A.safetensors (SDXL base)").</param>
    /// <exception cref="ArgumentException">The vector has another length, or gives a base α as well as <paramref name="baseAlpha"/>.</exception>
    public static MergeBlockWeights FromVector(IReadOnlyList<double> vector, int blocksPerSide, double? baseAlpha, string model)
    {
        ArgumentNullException.ThrowIfNull(vector);
        var count = 2 * blocksPerSide + 1;
        if (vector.Count == count)
        {
            return new MergeBlockWeights(blocksPerSide, baseAlpha ?? DefaultAlpha, [.. vector]);
        }

        if (vector.Count == count + 1)
        {
            if (baseAlpha is not null)
            {
                throw new ArgumentException($"--block-weights: {vector.Count} values start with BASE, and --alpha gives the base α as well; give it once.");
            }

            return new MergeBlockWeights(blocksPerSide, vector[0], [.. vector.Skip(1)]);
        }

        var names = Blocks(blocksPerSide);
        throw new ArgumentException(
            $"--block-weights: {vector.Count} values given, but {model} has {blocksPerSide} input blocks: give {count} " +
            $"({names[0]}–{names[blocksPerSide - 1]}, M00, {names[blocksPerSide + 1]}–{names[^1]}; the base α from --alpha) " +
            $"or {count + 1} (BASE first, as SuperMerger writes them). SD 1.x/2.x take 25 or 26, SDXL 19 or 20.");
    }

    /// <summary>The blocks in vector order: IN00…, M00, OUT00….</summary>
    public static IReadOnlyList<MergeBlock> Blocks(int blocksPerSide) =>
    [
        .. Enumerable.Range(0, blocksPerSide).Select(i => new MergeBlock(MergeBlockSide.Input, i)),
        new MergeBlock(MergeBlockSide.Middle, 0),
        .. Enumerable.Range(0, blocksPerSide).Select(i => new MergeBlock(MergeBlockSide.Output, i)),
    ];

    /// <summary>The numbered block a key of the original layout belongs to; null outside them (and outside the UNet).</summary>
    public static MergeBlock? BlockOf(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!key.StartsWith(OriginalPrefixes.Unet, StringComparison.Ordinal))
        {
            return null;
        }

        var name = key[OriginalPrefixes.Unet.Length..];
        if (UnetLayout.TryParseIndex(name, "input_blocks.", out var input, out _))
        {
            return new MergeBlock(MergeBlockSide.Input, input);
        }

        if (UnetLayout.TryParseIndex(name, "output_blocks.", out var output, out _))
        {
            return new MergeBlock(MergeBlockSide.Output, output);
        }

        return name.StartsWith("middle_block.", StringComparison.Ordinal) ? new MergeBlock(MergeBlockSide.Middle, 0) : null;
    }

    /// <summary>The number of input blocks of the UNet whose original-layout keys are <paramref name="keys"/>.</summary>
    /// <exception cref="InvalidDataException">The keys have no input blocks, or not as many output blocks as input blocks.</exception>
    public static int BlocksPerSideOf(IEnumerable<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var inputs = -1;
        var outputs = -1;
        foreach (var block in keys.Select(BlockOf).OfType<MergeBlock>())
        {
            if (block.Side == MergeBlockSide.Input)
            {
                inputs = Math.Max(inputs, block.Index);
            }
            else if (block.Side == MergeBlockSide.Output)
            {
                outputs = Math.Max(outputs, block.Index);
            }
        }

        if (inputs < 0 || inputs != outputs)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"the UNet has {inputs + 1} input blocks and {outputs + 1} output blocks; a Stable Diffusion UNet has as many of each"));
        }

        return inputs + 1;
    }

    /// <summary>The α of a key of the original layout: its block's, or <see cref="Base"/> outside the numbered blocks.</summary>
    public double AlphaOf(string key) => BlockOf(key) is { } block ? this[block] : Base;

    private int Slot(MergeBlock block)
    {
        var slot = block.Side switch
        {
            MergeBlockSide.Input => block.Index,
            MergeBlockSide.Middle => BlocksPerSide,
            _ => BlocksPerSide + 1 + block.Index,
        };
        if (block.Index < 0 || block.Index >= (block.Side == MergeBlockSide.Middle ? 1 : BlocksPerSide))
        {
            throw new ArgumentOutOfRangeException(nameof(block), block, $"The UNet has {BlocksPerSide} blocks per side, no {block.Name}.");
        }

        return slot;
    }
}
