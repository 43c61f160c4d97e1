using SdTune.ToyWorld;
using SdTune.ToyWorld.Benchmark;
using Xunit.Abstractions;

namespace SdTune.Tests.ToyWorld.Benchmark;

/// <summary>
/// The concept benchmark in CI: a LoRA trained on the embedded toy base model really learns the benchmark subject
/// (a striped star it has never seen), as read back by the evaluator, without losing the prompt.
/// </summary>
public class ConceptBenchmarkTests(ITestOutputHelper output)
{
    [Fact]
    public void A_lora_learns_the_subject_and_keeps_following_the_prompt()
    {
        using var dir = TestPaths.NewTempDir();
        var options = new BenchmarkOptions
        {
            BaseModel = Path.Combine(TestPaths.RepositoryRoot, "toyworld", "base-model"),
            Spec = BenchmarkSpec.Load(Path.Combine(TestPaths.RepositoryRoot, "toyworld", "benchmark.toml")),
            OutputDirectory = dir.Path,
            Methods = [BenchmarkMethods.Lora],
            Seeds = 1,
        };

        var rows = MethodBenchmark.Run(options, output.WriteLine);
        output.WriteLine(MethodBenchmark.ToMarkdown(rows));

        var (before, after) = (rows[0].Mean, rows[1].Mean);
        Assert.Equal(MethodBenchmark.BaseRow, before.Method);
        // Measured: 0% -> 38% (24 pictures each); the base model never draws the striped star.
        Assert.True(before.SubjectFidelity <= 0.05, $"the base model already draws the subject ({before.SubjectFidelity:P0})");
        Assert.True(after.SubjectFidelity >= 0.25, $"subject fidelity {before.SubjectFidelity:P0} -> {after.SubjectFidelity:P0}");
        Assert.True(after.PromptFidelity.Background >= 0.9, $"prompted background followed in {after.PromptFidelity.Background:P0} of the pictures");
        Assert.True(File.Exists(Path.Combine(dir.Path, "lora", "lora.safetensors")));
        Assert.True(File.Exists(after.Grid));
    }
}
