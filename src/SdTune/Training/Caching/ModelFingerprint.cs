using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Training.Caching;

/// <summary>
/// Identifies a model's exact weights for cache keys: a SHA-256 over its config text and every state-dict entry (name,
/// type, shape and bytes). Any changed weight, even one element, gives a different fingerprint.
/// </summary>
/// <remarks>Hashing reads every weight once (about half a second for an SD VAE on a current CPU); compute it once per run.
/// When the weights file's own SHA-256 is already known, <see cref="FromFileHash"/> avoids the work.</remarks>
public static class ModelFingerprint
{
    /// <summary>Fingerprints a loaded model.</summary>
    /// <param name="model">The model (any device; tensors are copied to the CPU one at a time).</param>
    /// <param name="config">The model's config text (for example its <c>config.json</c>), so equal weights under a
    /// different architecture setting (such as a scaling factor) differ too.</param>
    /// <returns>64 lowercase hex digits.</returns>
    public static string Compute(nn.Module model, string config)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AppendText(hash, "sdtune-model-fingerprint/1\n" + config + "\n");
        foreach (var (name, tensor) in model.state_dict())
        {
            AppendText(hash, $"{name}|{tensor.dtype}|{string.Join(",", tensor.shape)}\n");
            AppendTensorBytes(hash, tensor);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>A fingerprint from the SHA-256 of the weights file and the config text, when the file hash is known.</summary>
    /// <param name="fileSha256">The weights file's SHA-256 (hex).</param>
    /// <param name="config">The model's config text.</param>
    public static string FromFileHash(string fileSha256, string config)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileSha256);
        ArgumentNullException.ThrowIfNull(config);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"sdtune-model-file/1\n{fileSha256.ToLowerInvariant()}\n{config}")));
    }

    /// <summary>Adds a tensor's bytes (in its own type, row-major) to a hash.</summary>
    internal static void AppendTensorBytes(IncrementalHash hash, Tensor tensor)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var flat = tensor.detach().cpu().contiguous().flatten();
        var elementSize = Math.Max(1, (int)flat.ElementSize);
        // Tensor.bytes is limited to 2 GB; hash large tensors in slices.
        var perSlice = Math.Max(1, (1L << 28) / elementSize);
        for (long start = 0; start < flat.numel(); start += perSlice)
        {
            using var slice = flat.narrow(0, start, Math.Min(perSlice, flat.numel() - start));
            hash.AppendData(slice.bytes);
        }
    }

    private static void AppendText(IncrementalHash hash, string text) => hash.AppendData(Encoding.UTF8.GetBytes(text));
}
