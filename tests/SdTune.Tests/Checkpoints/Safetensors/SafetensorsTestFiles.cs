using System.Text;

namespace SdTune.Tests.Checkpoints.Safetensors;

/// <summary>Writes safetensors files byte by byte, header text as given, for tests of the reader's validation.</summary>
internal static class SafetensorsTestFiles
{
    /// <summary>An 8-byte length (<paramref name="declaredLength"/>, else the header's), the header, then zero data bytes.</summary>
    public static string Write(TempDir dir, string header, int dataBytes, long? declaredLength = null, string name = "bad.safetensors") =>
        Write(dir, Encoding.UTF8.GetBytes(header), dataBytes, declaredLength, name);

    /// <summary>As <see cref="Write(TempDir, string, int, long?, string)"/> with the header's exact bytes.</summary>
    public static string Write(TempDir dir, byte[] header, int dataBytes, long? declaredLength = null, string name = "bad.safetensors")
    {
        var file = dir.File(name);
        using var stream = File.Create(file);
        stream.Write(BitConverter.GetBytes(declaredLength ?? header.Length));
        stream.Write(header);
        stream.Write(new byte[dataBytes]);
        return file;
    }
}
