using System.Text;
using SdTune.IO;

namespace SdTune.Checkpoints.Pickle;

/// <summary>Turns the exceptions corrupt input makes framework code throw into <see cref="CheckpointFormatException"/>.</summary>
internal static class CheckpointErrors
{
    public static T Guard<T>(string path, Func<T> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or DecoderFallbackException or OverflowException or FormatException)
        {
            throw new CheckpointFormatException(path, "corrupt checkpoint: " + ex.Message);
        }
    }
}
