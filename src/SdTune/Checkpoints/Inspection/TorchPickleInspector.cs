using SdTune.Checkpoints.Pickle;

namespace SdTune.Checkpoints.Inspection;

/// <summary>Inspects a PyTorch pickle checkpoint from its unpickled object tree; no tensor data is read.</summary>
internal static class TorchPickleInspector
{
    public static InspectionReport Inspect(string path)
    {
        using var source = PickleTensorSource.Open(path);
        return ModelInspector.Summarise(path, "pytorch-pickle", [.. source.Entries], source.Metadata);
    }
}
