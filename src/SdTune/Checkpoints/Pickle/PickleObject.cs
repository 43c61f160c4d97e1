namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// An opaque placeholder for an instance of an allow-listed inert class (Lightning's <c>ModelCheckpoint</c>,
/// <c>numpy.dtype</c>, a numpy array, ...). It records what the pickle said (the class, the constructor arguments
/// and the state) without building the Python object.
/// </summary>
public sealed class PickleObject
{
    internal PickleObject(PickleGlobal type, PickleTuple arguments)
    {
        Type = type;
        Arguments = arguments;
    }

    /// <summary>The class the pickle asked for.</summary>
    public PickleGlobal Type { get; }

    /// <summary>The constructor arguments as pickled.</summary>
    public PickleTuple Arguments { get; }

    /// <summary>The state restored by the pickle's BUILD instruction, or null when there was none.</summary>
    public object? State { get; internal set; }

    /// <inheritdoc/>
    public override string ToString() => "<" + Type + " placeholder>";
}
