using SdTune.Checkpoints;
using SdTune.Checkpoints.Pickle;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Formats;

/// <summary>TensorSources.Open recognises files by content and gives one reading interface over them.</summary>
public class TensorSourcesTests
{
    // In the order the reference safetensors writer puts them (descending dtype alignment), which pickles keep.
    private static List<KeyValuePair<string, Tensor>> Sample() =>
    [
        new("c.ids", arange(4L)),
        new("a.weight", arange(6, dtype: ScalarType.Float32).reshape(2, 3)),
        new("b.bias", tensor(new[] { 1.5f, -2f }).to(ScalarType.Float16)),
    ];

    private static void AssertReads(ITensorSource source, List<KeyValuePair<string, Tensor>> expected)
    {
        Assert.Equal(expected.Select(e => e.Key), source.Entries.Select(e => e.Name));
        Assert.Equal(["I64", "F32", "F16"], source.Entries.Select(e => e.DType));
        Assert.Equal([2L, 3L], source.Entries[1].Shape);
        foreach (var (name, value) in expected)
        {
            using var read = source.Read(name);
            Assert.True(read.dtype == value.dtype && read.equal(value).all().item<bool>(), name);
        }

        using var destination = empty(2, 3, dtype: ScalarType.BFloat16);
        source.ReadInto("a.weight", destination);
        Assert.True(destination.to(ScalarType.Float32).equal(expected[1].Value).all().item<bool>());
        using var wrongShape = empty(3, 2);
        var error = Assert.Throws<CheckpointFormatException>(() => source.ReadInto("a.weight", wrongShape));
        Assert.Contains("a.weight", error.Message, StringComparison.Ordinal);
        Assert.Throws<KeyNotFoundException>(() => source.Read("missing"));
    }

    [Fact]
    public void Safetensors_pickle_and_wrapped_pickle_open_by_content_whatever_the_extension()
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        var tensors = Sample();
        SafetensorsWriter.Save(dir.File("weights.ckpt"), tensors); // misleading extension on purpose
        TorchCheckpointWriter.Save(dir.File("weights.safetensors"), tensors);
        TorchCheckpointWriter.Save(dir.File("wrapped.bin"), tensors, "state_dict");

        using (var source = TensorSources.Open(dir.File("weights.ckpt")))
        {
            Assert.IsType<SafetensorsTensorSource>(source);
            AssertReads(source, tensors);
        }

        foreach (var name in new[] { "weights.safetensors", "wrapped.bin" })
        {
            using var source = TensorSources.Open(dir.File(name));
            Assert.IsType<PickleTensorSource>(source);
            AssertReads(source, tensors);
        }

        var report = SdTune.Checkpoints.Inspection.ModelInspector.Inspect(dir.File("wrapped.bin"));
        Assert.Equal("pytorch-pickle", report.Format);
        Assert.Equal(3, report.TensorCount);
    }

    [Fact]
    public void Shard_index_opens_shards_of_either_kind()
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        var tensors = Sample();
        SafetensorsWriter.Save(dir.File("m-00001-of-00002.safetensors"), tensors.Take(2));
        TorchCheckpointWriter.Save(dir.File("m-00002-of-00002.bin"), tensors.Skip(2));
        File.WriteAllText(dir.File("m.index.json"),
            """{"metadata": {"total_size": 48}, "weight_map": {"a.weight": "m-00001-of-00002.safetensors", "b.bias": "m-00001-of-00002.safetensors", "c.ids": "m-00002-of-00002.bin"}}""");
        using var source = TensorSources.Open(dir.File("m.index.json"));
        Assert.IsType<ShardedTensorSource>(source);
        AssertReads(source, tensors);
    }

    [Fact]
    public void Unknown_empty_and_missing_files_are_named()
    {
        using var dir = TestPaths.NewTempDir();
        File.WriteAllText(dir.File("notes.txt"), "these are not weights, just a text file");
        File.WriteAllBytes(dir.File("empty.safetensors"), []);
        var error = Assert.Throws<CheckpointFormatException>(() => TensorSources.Open(dir.File("notes.txt")));
        Assert.Contains(dir.File("notes.txt"), error.Message, StringComparison.Ordinal);
        error = Assert.Throws<CheckpointFormatException>(() => TensorSources.Open(dir.File("empty.safetensors")));
        Assert.Contains("0 bytes", error.Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => TensorSources.Open(dir.File("absent.safetensors")));
    }

    [Fact]
    public void Streaming_writer_checks_each_tensor_against_the_announced_layout()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("streamed.safetensors");
        SafetensorsTensorLayout[] layout = [new("x", SafetensorsDType.F32, [2]), new("y", SafetensorsDType.F16, [3])];
        SafetensorsWriter.Save(path, layout, i => i == 0 ? ones(2) : zeros(3, dtype: ScalarType.Float16));
        using (var file = SafetensorsFile.Open(path))
        {
            Assert.Equal(["x", "y"], file.Tensors.Select(t => t.Name));
            using var y = file.Read("y");
            Assert.Equal(ScalarType.Float16, y.dtype);
        }

        var before = File.ReadAllBytes(path);
        var error = Assert.Throws<InvalidOperationException>(() => SafetensorsWriter.Save(path, layout, i => ones(2)));
        Assert.Contains("'y'", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
    }
}
