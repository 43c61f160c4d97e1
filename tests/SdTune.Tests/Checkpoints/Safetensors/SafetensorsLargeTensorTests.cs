using SdTune.Checkpoints.Safetensors;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Safetensors;

public class SafetensorsLargeTensorTests
{
    /// <summary>A tensor over 2 GB (past int offsets and TorchSharp's 2 GB <c>Tensor.bytes</c> limit) survives a round trip.</summary>
    [Fact]
    public void Tensor_over_two_gigabytes_round_trips()
    {
        const long n = (1L << 31) + 4099;
        using var dir = TestPaths.NewTempDir();
        var file = dir.File("big.safetensors");
        using (var scope = NewDisposeScope())
        {
            var big = torch.empty(n, dtype: ScalarType.Byte);
            // A pattern whose value depends on the position, so misplaced chunks are detected.
            var pattern = torch.arange(251, dtype: ScalarType.Byte);
            big.view(-1)[TensorIndex.Slice(0, n / 251 * 251)].view(-1, 251).copy_(pattern.expand(n / 251, 251));
            big[TensorIndex.Slice(n / 251 * 251, n)].fill_(7);
            using var small = torch.ones(3);
            SafetensorsWriter.Save(file, [new("small", small), new("big", big)]);
        }

        using var st = SafetensorsFile.Open(file);
        Assert.Equal(8 + st.Header.HeaderLength + 12 + n, new FileInfo(file).Length);
        using var back = st.Read("big");
        Assert.Equal(n, back.numel());
        foreach (var position in new[] { 0L, 250, 251, (1L << 31) - 1, 1L << 31, (1L << 31) + 1, n / 251 * 251 - 1 })
        {
            Assert.Equal((byte)(position % 251), back[position].item<byte>());
        }

        Assert.Equal((byte)7, back[n - 1].item<byte>());
    }
}
