using System.Runtime.InteropServices;
using TorchSharp;

namespace SdTune.Runtime;

/// <summary>Process-wide facts about the libtorch backend SdTune runs on, and the settings it runs it with.</summary>
public static partial class TorchRuntime
{
    private const string TorchCpu = "libtorch_cpu";
    private static readonly Lazy<bool> Configured = new(ApplySettings);

    /// <summary>Forces libtorch to load now, so a broken native install fails early with a clear message.</summary>
    /// <returns>A one-line description of the backend (libtorch version, CUDA availability, threads).</returns>
    public static string Describe()
    {
        using var probe = torch.ones(1);
        return $"libtorch {torch.__version__}, CUDA {(torch.cuda.is_available() ? "available" : "not available")}, {torch.get_num_threads()} threads";
    }

    /// <summary>
    /// Applies SdTune's process-wide libtorch settings (once; later calls do nothing): NNPACK off. libtorch tries NNPACK
    /// for some CPU convolutions that oneDNN does not take and, on CPUs NNPACK does not support, logs "Could not
    /// initialize NNPACK! Reason: Unsupported hardware." on standard error at every attempt (1,409 lines in one
    /// quickstart); those convolutions then run on libtorch's own kernels, as they do with NNPACK off.
    /// </summary>
    /// <returns>Whether the settings could be applied (false when the native library does not export them).</returns>
    public static bool Configure() => Configured.Value;

    private static bool ApplySettings()
    {
        using (torch.ones(1))
        {
            // Loads libtorch through TorchSharp before it is called directly.
        }

        try
        {
            SetUserEnabledNnpack(GlobalContext(), false);
            return !UserEnabledNnpack(GlobalContext());
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    // at::globalContext() and its NNPACK switch (the setting behind torch.backends.nnpack.set_flags).
    [LibraryImport(TorchCpu, EntryPoint = "_ZN2at13globalContextEv")]
    private static partial IntPtr GlobalContext();

    [LibraryImport(TorchCpu, EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static partial void SetUserEnabledNnpack(IntPtr context, [MarshalAs(UnmanagedType.I1)] bool enabled);

    [LibraryImport(TorchCpu, EntryPoint = "_ZNK2at7Context17userEnabledNNPACKEv")]
    [return: MarshalAs(UnmanagedType.I1)]
    private static partial bool UserEnabledNnpack(IntPtr context);
}
