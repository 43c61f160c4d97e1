using SdTune.Runtime;
using SdTune.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Optimization;

/// <summary>
/// An optimizer step frees each parameter's temporaries (AdamW's denominator, Adafactor's squared gradient and
/// second-moment estimate, Lion's direction) before it updates the next parameter: its scratch memory is about one
/// parameter's, not the whole model's. For a full-size ControlNet (361M float32 parameters) the difference is
/// 1.4 GB (AdamW) to 5 GB (Adafactor) of peak memory.
/// </summary>
public class OptimizerScratchMemoryTests(ITestOutputHelper output)
{
    private const int ParameterCount = 16;
    private const long Rows = 1024;
    private const long Columns = 2048;
    private const long ParameterBytes = Rows * Columns * sizeof(float);

    public static TheoryData<string> Names => [.. OptimizerFactory.Names];

    [Theory]
    [MemberData(nameof(Names))]
    public void A_step_needs_scratch_memory_for_a_few_parameters_not_for_all_of_them(string name)
    {
        // Freed blocks of this size go straight back to the system, so the peak resident size during the step shows
        // the temporaries alive at the same time (and not blocks the allocator kept from an earlier step).
        if (!NativeAllocator.ReleaseFreedMemoryPromptly() || !ProcessMemory.ResetPeak())
        {
            output.WriteLine("Linux/glibc only (mallopt and /proc/self/clear_refs); nothing measured.");
            return;
        }

        using var generator = new Generator(5);
        var parameters = Enumerable.Range(0, ParameterCount).Select(_ => new Parameter(randn([Rows, Columns], generator: generator))).ToList();
        try
        {
            foreach (var p in parameters)
            {
                using var gradient = randn([Rows, Columns], generator: generator).mul_(1e-3);
                p.grad = gradient;
            }

            using var optimizer = OptimizerFactory.Create(name, [new ParameterGroup("all", parameters, 1e-4)]);
            optimizer.Step(); // Creates the optimizer state.
            GC.Collect();
            GC.WaitForPendingFinalizers();

            ProcessMemory.ResetPeak();
            var before = ProcessMemory.ResidentBytes();
            optimizer.Step();
            var growth = ProcessMemory.PeakResidentBytes() - before;
            output.WriteLine($"{name}: peak growth during a step {growth / 1e6:F0} MB for {ParameterCount} parameters of {ParameterBytes / 1e6:F0} MB");

            // Keeping every parameter's temporaries until the end of the step needs at least ParameterCount of them.
            Assert.True(growth < ParameterCount / 2 * ParameterBytes,
                $"{name}: the step's resident memory grew by {growth / 1e6:F0} MB, as if the temporaries of {(double)growth / ParameterBytes:F1} parameters were alive at once.");
        }
        finally
        {
            foreach (var p in parameters)
            {
                p.Dispose();
            }
        }
    }
}
