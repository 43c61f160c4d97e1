namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// A reference to an allow-listed, inert Python global (a class or function named in the pickle) that the
/// reader keeps as data instead of resolving, e.g. the <c>ModelCheckpoint</c> class used as a dictionary key
/// in Lightning checkpoints. Nothing is ever imported or called.
/// </summary>
/// <param name="Module">The Python module, e.g. <c>pytorch_lightning.callbacks.model_checkpoint</c>.</param>
/// <param name="Name">The name inside the module, e.g. <c>ModelCheckpoint</c>.</param>
public sealed record PickleGlobal(string Module, string Name)
{
    /// <summary>The dotted name, <c>module.name</c>.</summary>
    public override string ToString() => Module + "." + Name;
}
