using System.Globalization;
using System.Text;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;

namespace SdTune.Tests.Checkpoints.Safetensors;

/// <summary>The documented limits: a header of at most 32 MiB listing at most 100,000 tensors.</summary>
public class SafetensorsHeaderLimitTests
{
    // The limits the README documents; real models stay far below (SDXL: ~2,500 tensors, a header of ~0.2 MB).
    private const long HeaderLimit = 32L << 20;
    private const int TensorLimit = 100_000;

    private static string ManyEmptyTensors(int count)
    {
        var header = new StringBuilder("{");
        for (var i = 0; i < count; i++)
        {
            header.Append(CultureInfo.InvariantCulture, $"{(i > 0 ? "," : "")}\"t{i}\":{{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}}");
        }

        return header.Append('}').ToString();
    }

    [Fact]
    public void A_header_longer_than_the_limit_is_refused_by_its_length_field_naming_the_limit()
    {
        using var dir = TestPaths.NewTempDir();
        var path = SafetensorsTestFiles.Write(dir, "{}", 0, declaredLength: HeaderLimit + 1);
        var error = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(path));
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains("exceeds the limit of 33,554,432 bytes (32 MiB)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_header_of_exactly_the_limit_loads()
    {
        using var dir = TestPaths.NewTempDir();
        var start = "{\"__metadata__\":{\"big\":\"";
        var end = "\"},\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        var header = start + new string('x', (int)HeaderLimit - start.Length - end.Length) + end;
        using var file = SafetensorsFile.Open(SafetensorsTestFiles.Write(dir, header, 4));
        Assert.Equal(HeaderLimit, file.Header.HeaderLength);
        Assert.Equal((int)HeaderLimit - start.Length - end.Length, file.Metadata["big"].Length);
    }

    [Fact]
    public void More_tensors_than_the_limit_are_refused_naming_the_limit_and_the_limit_itself_loads()
    {
        using var dir = TestPaths.NewTempDir();
        var tooMany = SafetensorsTestFiles.Write(dir, ManyEmptyTensors(TensorLimit + 1), 0, name: "too-many.safetensors");
        var error = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(tooMany));
        Assert.StartsWith(tooMany + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains("more than 100,000 tensors, the limit", error.Message, StringComparison.Ordinal);

        using var atLimit = SafetensorsFile.Open(SafetensorsTestFiles.Write(dir, ManyEmptyTensors(TensorLimit), 0, name: "at-limit.safetensors"));
        Assert.Equal(TensorLimit, atLimit.Tensors.Count);
    }
}
