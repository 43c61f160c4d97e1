using SdTune.Adapters.Formats;

namespace SdTune.Adapters;

/// <summary>An adapter file applied to models; disposing removes it.</summary>
public sealed class AppliedLora : IDisposable
{
    private bool removed;

    internal AppliedLora(LoraFile file, LoraApplyMode mode)
    {
        File = file;
        Mode = mode;
    }

    /// <summary>The file, its modules and the keys that matched nothing.</summary>
    public LoraFile File { get; }

    /// <summary>How it was applied.</summary>
    public LoraApplyMode Mode { get; }

    /// <summary>Takes the adapter off the models (hooks removed, or merged deltas subtracted).</summary>
    public void Remove()
    {
        if (removed)
        {
            return;
        }

        if (Mode == LoraApplyMode.Merge)
        {
            File.Network.Unmerge();
        }
        else
        {
            File.Network.Detach();
        }

        removed = true;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Remove();
        File.Network.Dispose();
    }
}
