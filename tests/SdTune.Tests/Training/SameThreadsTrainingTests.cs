using SdTune.Checkpoints.Safetensors;
using SdTune.Runtime;
using SdTune.Training;
using static TorchSharp.torch;

namespace SdTune.Tests.Training;

/// <summary>The same seed and thread count give the same numbers: two seeded LoRA runs with one thread are bit-identical.</summary>
public sealed class SameThreadsTrainingTests
{
    [Fact]
    public void Two_seeded_lora_runs_with_one_thread_give_bit_identical_weights()
    {
        using var dir = TestPaths.NewTempDir();
        using var threads = TorchThreads.Use(1);
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 3);
        var (firstLosses, firstFile) = Train(config);
        var (secondLosses, secondFile) = Train(config with { OutputDir = Path.Combine(dir.Path, "again") });

        Assert.Equal(1, TorchThreads.Current);
        Assert.Equal(firstLosses, secondLosses);
        using var first = SafetensorsFile.Open(firstFile);
        using var second = SafetensorsFile.Open(secondFile);
        using var scope = NewDisposeScope();
        var expected = first.ReadAll().ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        Assert.NotEmpty(expected);
        TrainingTestKit.AssertBitIdentical(expected, second.ReadAll().ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal));
    }

    private static (IReadOnlyList<double> Losses, string Output) Train(TrainingConfig config)
    {
        using var model = TrainingTestKit.TinyModel();
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        return ([.. result.LossHistory], result.Outputs[^1]);
    }
}
