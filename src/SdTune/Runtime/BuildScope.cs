namespace SdTune.Runtime;

/// <summary>
/// Owns what a builder makes until it succeeds: each part is registered with <see cref="Own{T}"/>, and disposing the
/// scope before <see cref="Complete"/> frees them all (a failure part-way through building a model leaks nothing).
/// <code>
/// using var build = new BuildScope();
/// var unet = build.Own(new UNet2DConditionModel(config));
/// ...
/// build.Complete();   // the caller owns the parts now
/// </code>
/// </summary>
public sealed class BuildScope : IDisposable
{
    private List<IDisposable>? owned = [];

    /// <summary>Registers <paramref name="part"/> and returns it.</summary>
    /// <exception cref="InvalidOperationException">The scope was completed or disposed.</exception>
    public T Own<T>(T part)
        where T : IDisposable
    {
        (owned ?? throw new InvalidOperationException("The build scope has ended.")).Add(part);
        return part;
    }

    /// <summary>The build succeeded: the parts are handed over and disposing the scope no longer frees them.</summary>
    public void Complete() => owned = null;

    /// <summary>Frees every registered part, last first, unless <see cref="Complete"/> was called.</summary>
    public void Dispose()
    {
        if (owned is null)
        {
            return;
        }

        for (var i = owned.Count - 1; i >= 0; i--)
        {
            owned[i].Dispose();
        }

        owned = null;
    }
}
