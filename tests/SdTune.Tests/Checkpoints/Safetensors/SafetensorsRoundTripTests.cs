using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Safetensors;

public class SafetensorsRoundTripTests
{
    public static TheoryData<ScalarType> AllTypes() =>
    [
        ScalarType.Float64, ScalarType.Float32, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64,
        ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.Byte, ScalarType.Bool,
    ];

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Every_dtype_round_trips_exactly(ScalarType type)
    {
        using var dir = TestPaths.NewTempDir();
        var file = dir.File("t.safetensors");
        using var source = (torch.randn(3, 5, generator: new torch.Generator(1)) * 50).to(type);
        using var scalar = torch.tensor(7).to(type);
        using var empty = torch.empty(0, 4).to(type);
        SafetensorsWriter.Save(file, [new("a.weight", source), new("alpha", scalar), new("empty", empty)], new Dictionary<string, string> { ["ss_network_dim"] = "4", ["note"] = "ünïcode ✓" });

        using var st = SafetensorsFile.Open(file);
        Assert.Equal(["a.weight", "alpha", "empty"], st.Tensors.Select(t => t.Name));
        Assert.Equal(SafetensorsDTypes.FromScalarType(type), st.Info("a.weight").DType);
        Assert.Equal("ünïcode ✓", st.Metadata["note"]);
        using var back = st.Read("a.weight");
        Assert.Equal(type, back.dtype);
        Assert.Equal(source.shape, back.shape);
        Assert.True(source.to(ScalarType.Float64).equal(back.to(ScalarType.Float64)).all().item<bool>());
        using var backScalar = st.Read("alpha");
        Assert.Empty(backScalar.shape);
        Assert.Equal(scalar.to(ScalarType.Float64).item<double>(), backScalar.to(ScalarType.Float64).item<double>());
        using var backEmpty = st.Read("empty");
        Assert.Equal([0L, 4L], backEmpty.shape);
    }

    [Fact]
    public void Header_is_padded_to_eight_bytes_and_data_follows_contiguously()
    {
        using var dir = TestPaths.NewTempDir();
        var file = dir.File("t.safetensors");
        using var a = torch.ones(3, dtype: ScalarType.Float16);
        using var b = torch.ones(5, dtype: ScalarType.Float32);
        SafetensorsWriter.Save(file, [new("a", a), new("b", b)]);
        var bytes = File.ReadAllBytes(file);
        var headerLength = BitConverter.ToInt64(bytes, 0);
        Assert.Equal(0, headerLength % 8);
        Assert.Equal(8 + headerLength + 6 + 20, bytes.Length);
        // Known little-endian encodings: half 1.0 = 0x3C00, float 1.0 = 0x3F800000; F32 data comes first (the
        // reference writer orders tensors by descending dtype alignment).
        Assert.Equal(1.0f, BitConverter.ToSingle(bytes, (int)(8 + headerLength)));
        Assert.Equal(0x3C00, BitConverter.ToUInt16(bytes, (int)(8 + headerLength + 20)));
    }

    [Fact]
    public void Reads_the_reference_fixture_written_by_the_python_library()
    {
        using var st = SafetensorsFile.Open(TestPaths.Fixture("unet_sd1_tiny.safetensors"));
        Assert.Contains(st.Tensors, t => t.Name == "conv_in.weight" && t.Shape.SequenceEqual([32L, 4, 3, 3]));
        using var ids = st.Read("input.timestep");
        Assert.Equal(ScalarType.Int64, ids.dtype);
        Assert.Equal([37L, 801L], ids.data<long>().ToArray());
    }

    [Fact]
    public void ReadInto_fills_an_existing_tensor_and_converts_types()
    {
        using var dir = TestPaths.NewTempDir();
        var file = dir.File("t.safetensors");
        using var source = torch.arange(12, dtype: ScalarType.Float32).reshape(3, 4);
        SafetensorsWriter.Save(file, [new("w", source)]);
        using var st = SafetensorsFile.Open(file);
        using var same = torch.zeros(3, 4);
        st.ReadInto("w", same);
        Assert.True(same.equal(source).all().item<bool>());
        using var half = torch.zeros(3, 4, dtype: ScalarType.BFloat16);
        st.ReadInto("w", half);
        Assert.Equal(11f, half[2, 3].to(ScalarType.Float32).item<float>());
        using var wrong = torch.zeros(4, 3);
        var error = Assert.Throws<CheckpointFormatException>(() => st.ReadInto("w", wrong));
        Assert.Contains("'w'", error.Message, StringComparison.Ordinal);
        Assert.Contains("[3, 4]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_contiguous_tensors_are_written_in_logical_order()
    {
        using var dir = TestPaths.NewTempDir();
        var file = dir.File("t.safetensors");
        using var source = torch.arange(6, dtype: ScalarType.Float32).reshape(2, 3).t();
        SafetensorsWriter.Save(file, [new("t", source)]);
        using var st = SafetensorsFile.Open(file);
        using var back = st.Read("t");
        Assert.Equal([0f, 3f, 1f, 4f, 2f, 5f], back.data<float>().ToArray());
    }

    [Fact]
    public void A_failed_write_leaves_the_previous_file_intact()
    {
        using var dir = TestPaths.NewTempDir();
        var file = dir.File("t.safetensors");
        using var good = torch.ones(4);
        SafetensorsWriter.Save(file, [new("w", good)]);
        var before = File.ReadAllBytes(file);
        using var complex = torch.ones(2, dtype: ScalarType.ComplexFloat32);
        Assert.ThrowsAny<Exception>(() => SafetensorsWriter.Save(file, [new("w", good), new("c", complex)]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Save(file, [new("w", good), new("w", good)]));
        Assert.Equal(before, File.ReadAllBytes(file));
        Assert.Single(Directory.GetFiles(dir.Path));
    }
}
