using TorchSharp;

namespace SdTune.Runtime;

/// <summary>
/// Makes libtorch scalars for tensor ops and keeps them alive until disposed. A <see cref="Scalar"/> made implicitly from
/// a double inside a call (<c>t.mul_(0.9)</c>) is unreachable as soon as its native handle has been read, and TorchSharp's
/// <see cref="Scalar"/> has a finalizer: a garbage collection during the native call can free the scalar while libtorch
/// still reads it, which fails the op at random ("Expected false to be true" from <c>Scalar::toFloat</c>). Code that runs
/// such ops many times (optimizer steps) takes its scalars from here: <c>using var s = new HeldScalars();
/// t.mul_(s[0.9]);</c>.
/// </summary>
public sealed class HeldScalars : IDisposable
{
    private readonly List<Scalar> held = [];

    /// <summary>A scalar of <paramref name="value"/>, held until this object is disposed.</summary>
    public Scalar this[double value]
    {
        get
        {
            var scalar = value.ToScalar();
            held.Add(scalar);
            return scalar;
        }
    }

    /// <summary>Frees the scalars.</summary>
    public void Dispose()
    {
        foreach (var scalar in held)
        {
            scalar.Dispose();
        }

        held.Clear();
    }
}
