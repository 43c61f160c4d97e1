using SdTune.Runtime;

namespace SdTune.Tests;

public class RuntimeTests
{
    [Fact]
    public void Libtorch_loads_and_computes()
    {
        Assert.Contains("libtorch", TorchRuntime.Describe(), StringComparison.Ordinal);
        using var a = TorchSharp.torch.arange(4);
        Assert.Equal(6L, a.sum().item<long>());
    }
}
