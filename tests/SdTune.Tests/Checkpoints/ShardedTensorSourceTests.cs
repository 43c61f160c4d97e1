using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using TorchSharp;

namespace SdTune.Tests.Checkpoints;

public class ShardedTensorSourceTests
{
    [Fact]
    public void Index_json_joins_shards_and_validates_them()
    {
        using var dir = TestPaths.NewTempDir();
        using var a = torch.arange(4, dtype: torch.ScalarType.Float32);
        using var b = torch.ones(2, 2);
        SafetensorsWriter.Save(dir.File("m-00001-of-00002.safetensors"), [new("a", a)]);
        SafetensorsWriter.Save(dir.File("m-00002-of-00002.safetensors"), [new("b", b)]);
        var index = dir.File("m.safetensors.index.json");
        File.WriteAllText(index, """{"metadata":{"total_size":32},"weight_map":{"a":"m-00001-of-00002.safetensors","b":"m-00002-of-00002.safetensors"}}""");

        using (var source = ShardedTensorSource.Open(index, p => new SafetensorsTensorSource(p)))
        {
            Assert.Equal(["a", "b"], source.Entries.Select(e => e.Name));
            using var read = source.Read("a");
            Assert.Equal(3f, read[3].item<float>());
            using var target = torch.zeros(2, 2);
            source.ReadInto("b", target);
            Assert.Equal(4f, target.sum().item<float>());
        }

        File.WriteAllText(index, """{"weight_map":{"a":"m-00001-of-00002.safetensors","c":"m-00002-of-00002.safetensors"}}""");
        Assert.Contains("do not hold: c.", Assert.Throws<CheckpointFormatException>(() => ShardedTensorSource.Open(index, p => new SafetensorsTensorSource(p))).Message, StringComparison.Ordinal);
        File.WriteAllText(index, """{"weight_map":{"a":"../elsewhere.safetensors"}}""");
        Assert.Contains("plain file name", Assert.Throws<CheckpointFormatException>(() => ShardedTensorSource.Open(index, p => new SafetensorsTensorSource(p))).Message, StringComparison.Ordinal);
        File.WriteAllText(index, """{"weight_map":{"a":"gone.safetensors"}}""");
        Assert.Contains("'gone.safetensors' is missing", Assert.Throws<CheckpointFormatException>(() => ShardedTensorSource.Open(index, p => new SafetensorsTensorSource(p))).Message, StringComparison.Ordinal);
    }
}
