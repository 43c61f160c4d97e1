using TorchSharp;

namespace SdTune.Runtime;

/// <summary>Process-wide facts about the libtorch backend SdTune runs on.</summary>
public static class TorchRuntime
{
    /// <summary>Forces libtorch to load now, so a broken native install fails early with a clear message.</summary>
    /// <returns>A one-line description of the backend (libtorch version, CUDA availability, threads).</returns>
    public static string Describe()
    {
        using var probe = torch.ones(1);
        return $"libtorch {torch.__version__}, CUDA {(torch.cuda.is_available() ? "available" : "not available")}, {torch.get_num_threads()} threads";
    }
}
