using static TorchSharp.torch;

namespace SdTune.Workshop.Lora;

/// <summary>
/// A matrix approximated as <c>Up · Down</c> by a truncated SVD: <c>Up = U·diag(S)</c> ([m, r]) and <c>Down = Vhᵀ</c>
/// rows ([r, n]), as kohya's tools store them in <c>lora_up</c> and <c>lora_down</c>. Owns its tensors.
/// </summary>
public sealed class LowRankFactors : IDisposable
{
    internal LowRankFactors(Tensor up, Tensor down, double retainedFrobenius)
    {
        Up = up;
        Down = down;
        RetainedFrobenius = retainedFrobenius;
    }

    /// <summary>The left factor, [m, r], float32.</summary>
    public Tensor Up { get; }

    /// <summary>The right factor, [r, n], float32.</summary>
    public Tensor Down { get; }

    /// <summary>The rank kept.</summary>
    public int Rank => (int)Down.shape[0];

    /// <summary>
    /// The fraction of the matrix's Frobenius norm the kept singular values hold, <c>sqrt(Σ_kept S² / Σ S²)</c>
    /// (1 for a zero matrix); before any clamping.
    /// </summary>
    public double RetainedFrobenius { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        Up.Dispose();
        Down.Dispose();
    }
}
