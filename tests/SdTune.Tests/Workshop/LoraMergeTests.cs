using SdTune.Adapters;
using SdTune.Checkpoints.Safetensors;
using SdTune.Workshop.Lora;
using static TorchSharp.torch;

namespace SdTune.Tests.Workshop;

public class LoraMergeTests
{
    [Fact]
    public void Concatenation_is_exact_and_its_ranks_add_up()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = WorkshopTestKit.Sd1();
        var targets = WorkshopTestKit.Targets(model);
        // Different ranks and alphas; only the first adapts the 3x3 convolutions, only the second the text encoder.
        var a = WorkshopTestKit.WriteRandomLora(model, dir.File("a.safetensors"), new LoraNetworkOptions { Dim = 2, Alpha = 1, ConvDim = 2, ConvAlpha = 4, TrainTextEncoder = false }, seed: 1);
        var b = WorkshopTestKit.WriteRandomLora(model, dir.File("b.safetensors"), new LoraNetworkOptions { Dim = 3, Alpha = 8 }, seed: 2);
        var result = LoraMerge.Run(new LoraMergeOptions { Inputs = [new(a, 0.6), new(b, -1.3)], Output = dir.File("merged.safetensors") }, targets);

        var deltasA = WorkshopTestKit.Deltas(a, targets);
        var deltasB = WorkshopTestKit.Deltas(b, targets);
        var merged = WorkshopTestKit.Deltas(result.Output, targets);
        var ranks = WorkshopTestKit.Ranks(result.Output, targets);
        Assert.Equal(deltasA.Keys.Union(deltasB.Keys).Order(StringComparer.Ordinal), merged.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, delta) in merged)
        {
            using var scope = NewDisposeScope();
            var expected = zeros_like(delta);
            var rank = 0;
            if (deltasA.TryGetValue(name, out var da))
            {
                expected += 0.6 * da;
                rank += 2;
            }

            if (deltasB.TryGetValue(name, out var db))
            {
                expected -= 1.3 * db;
                rank += 3;
            }

            Assert.Equal(rank, ranks[name]);
            Assert.True(WorkshopTestKit.RelativeDifference(delta, expected) < 1e-6, $"{name}: {WorkshopTestKit.RelativeDifference(delta, expected)}");
        }

        Assert.All(result.Modules, m => Assert.True(m.RelativeError < 1e-6, $"{m.Module}: reported {m.RelativeError}"));
        using var file = SafetensorsFile.Open(result.Output);
        Assert.Equal("networks.lora", file.Metadata["ss_network_module"]);
        Assert.Equal("sd_v1", file.Metadata["ss_base_model_version"]);
        Assert.Equal("""{"conv_dim": "2", "conv_alpha": "2"}""", file.Metadata["ss_network_args"]);
        Assert.StartsWith("concatenated from a.safetensors x 0.6, b.safetensors x -1.3", file.Metadata["ss_training_comment"], StringComparison.Ordinal);
    }

    [Fact]
    public void Svd_merge_reports_the_error_of_what_it_wrote()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = WorkshopTestKit.Sd1();
        var targets = WorkshopTestKit.Targets(model);
        var a = WorkshopTestKit.WriteRandomLora(model, dir.File("a.safetensors"), new LoraNetworkOptions { Dim = 2, Alpha = 1 }, seed: 1);
        var b = WorkshopTestKit.WriteRandomLora(model, dir.File("b.safetensors"), new LoraNetworkOptions { Dim = 3, Alpha = 8 }, seed: 2);
        var deltasA = WorkshopTestKit.Deltas(a, targets);
        var deltasB = WorkshopTestKit.Deltas(b, targets);

        // At the summed rank (no clamping) the SVD keeps everything; at rank 2 it cannot, and says how much it lost.
        foreach (var (rank, exact) in new[] { (5, true), (2, false) })
        {
            var output = dir.File($"svd{rank}.safetensors");
            var result = LoraMerge.Run(new LoraMergeOptions { Inputs = [new(a, 1.0), new(b, 0.5)], Output = output, Method = LoraMergeMethod.Svd, Rank = new LowRankRule(rank), ClampQuantile = 1 }, targets);
            var merged = WorkshopTestKit.Deltas(output, targets);
            var ranks = WorkshopTestKit.Ranks(output, targets);
            foreach (var report in result.Modules)
            {
                using var scope = NewDisposeScope();
                var expected = deltasA[report.Module] + (0.5 * deltasB[report.Module]);
                var direct = WorkshopTestKit.RelativeDifference(merged[report.Module], expected);
                Assert.Equal(rank, ranks[report.Module]);
                Assert.Equal(5, report.InputRank);
                Assert.Equal(direct, report.RelativeError, 1e-5);
                Assert.True(exact ? direct < 1e-5 : direct > 1e-3, $"{report.Module} at rank {rank}: {direct}");
                Assert.Equal(Math.Sqrt(1 - Math.Min(1, report.RetainedFrobenius * report.RetainedFrobenius)), report.RelativeError, 1e-3);
            }
        }
    }

    [Fact]
    public void Loras_of_different_base_models_are_refused_naming_the_file()
    {
        using var dir = TestPaths.NewTempDir();
        string sd1Lora, xlLora;
        using (var sd1 = WorkshopTestKit.Sd1())
        {
            sd1Lora = WorkshopTestKit.WriteRandomLora(sd1, dir.File("sd1.safetensors"), new LoraNetworkOptions { Dim = 2 }, seed: 1);
        }

        using (var xl = WorkshopTestKit.Sdxl())
        {
            xlLora = WorkshopTestKit.WriteRandomLora(xl, dir.File("xl.safetensors"), new LoraNetworkOptions { Dim = 2 }, seed: 2);
        }

        // Without a model: the families of the files themselves disagree.
        var files = Assert.Throws<ArgumentException>(() => LoraMerge.Run(new LoraMergeOptions { Inputs = [new(sd1Lora), new(xlLora)], Output = dir.File("m.safetensors") }));
        Assert.Contains("xl.safetensors is a LoRA for SDXL, but", files.Message, StringComparison.Ordinal);
        Assert.Contains("sd1.safetensors is for SD 1.x", files.Message, StringComparison.Ordinal);

        // With the models: the SDXL file does not fit them.
        using var model = WorkshopTestKit.Sd1();
        var onModel = Assert.Throws<ArgumentException>(() => LoraMerge.Run(new LoraMergeOptions { Inputs = [new(sd1Lora), new(xlLora)], Output = dir.File("m.safetensors") }, WorkshopTestKit.Targets(model)));
        Assert.Contains("xl.safetensors", onModel.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("m.safetensors")));

        var overwrite = Assert.Throws<ArgumentException>(() => LoraMerge.Run(new LoraMergeOptions { Inputs = [new(sd1Lora), new(sd1Lora, 2)], Output = sd1Lora }, WorkshopTestKit.Targets(model)));
        Assert.Contains("would overwrite the input", overwrite.Message, StringComparison.Ordinal);
    }
}
