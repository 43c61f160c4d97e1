using SdTune.Checkpoints.Safetensors;
using SdTune.Runtime;
using SdTune.Tests.Checkpoints.SingleFile;
using static TorchSharp.torch;

namespace SdTune.Tests.Workshop;

/// <summary>Tiny single-file checkpoints: the full-size manifests' names with 2-wide shapes and random values.</summary>
internal static class TinyCheckpoints
{
    public const string Sd1 = "sd15.original.json";
    public const string Sdxl = "sdxl_base.original.json";

    /// <summary>
    /// Writes a checkpoint of <paramref name="manifest"/>'s tensors (position ids as int64 counts, everything else
    /// random in <paramref name="dtype"/>) and returns them. <paramref name="change"/> may reshape a tensor (return its
    /// new shape) or drop it (return null).
    /// </summary>
    public static Dictionary<string, Tensor> Write(string path, string manifest, ulong seed, ScalarType dtype = ScalarType.Float32,
        Func<string, long[], long[]?>? change = null, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var generator = new TorchSharp.torch.Generator(seed);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tiny) in KeyConversionExecutorTests.Tiny(manifest))
        {
            if ((change is null ? tiny : change(name, tiny)) is not { } shape)
            {
                continue;
            }

            tensors[name] = name.EndsWith("position_ids", StringComparison.Ordinal)
                ? arange(shape.Aggregate(1L, (x, y) => x * y), dtype: ScalarType.Int64).reshape(shape)
                : randn(shape, generator: generator).to_type(dtype);
        }

        SafetensorsWriter.Save(path, tensors, metadata);
        return tensors;
    }

    /// <summary>Every tensor of a safetensors file.</summary>
    public static Dictionary<string, Tensor> Read(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return file.ReadAll().ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
    }

    /// <summary>Same type, shape and bytes.</summary>
    public static bool SameBits(Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape))
        {
            return false;
        }

        var length = (int)NativeTensorMemory.ByteLength(a);
        return NativeTensorMemory.Bytes(a.contiguous(), 0, length).SequenceEqual(NativeTensorMemory.Bytes(b.contiguous(), 0, length));
    }

    /// <summary>Whether a merge computes this key (UNet, text encoders, VAE; not position ids), by the documented rule.</summary>
    public static bool IsMergedKey(string key) =>
        (key.StartsWith("model.diffusion_model.", StringComparison.Ordinal) || key.StartsWith("first_stage_model.", StringComparison.Ordinal) ||
         key.StartsWith("cond_stage_model.", StringComparison.Ordinal) || key.StartsWith("conditioner.", StringComparison.Ordinal)) &&
        !key.EndsWith("position_ids", StringComparison.Ordinal);
}
