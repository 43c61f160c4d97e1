namespace SdTune.Checkpoints.Inspection;

internal static class TorchPickleInspector
{
    public static InspectionReport Inspect(string path) => throw new CheckpointFormatException(path, "pickle inspection pending");
}
