using SdTune.Adapters;
using SdTune.Checkpoints.Safetensors;
using SdTune.Workshop.Lora;
using static TorchSharp.torch;

namespace SdTune.Tests.Workshop;

public class LoraExtractTests
{
    [Fact]
    public void Extracting_base_plus_a_baked_lora_recovers_the_lora_update()
    {
        using var dir = TestPaths.NewTempDir();
        string basePath, loraPath;
        using (var model = WorkshopTestKit.Sd1())
        {
            basePath = WorkshopTestKit.SaveSingleFile(model, dir.File("base.safetensors"));
            loraPath = WorkshopTestKit.WriteRandomLora(model, dir.File("lora.safetensors"), new LoraNetworkOptions { Dim = 3, Alpha = 2, ConvDim = 2, ConvAlpha = 1 }, seed: 4);
        }

        var tuned = LoraBake.Run(new LoraBakeOptions { Model = basePath, Lora = loraPath, Output = dir.File("tuned.safetensors") }).Output;
        var result = LoraExtract.Run(new LoraExtractOptions
        {
            Base = basePath,
            Tuned = tuned,
            Output = dir.File("extracted.safetensors"),
            Rank = new LowRankRule(3),
            ConvRank = new LowRankRule(2, RankOption: "--conv-rank"),
            ClampQuantile = 1,
        });
        Assert.Empty(result.Notes);

        using var model2 = WorkshopTestKit.Sd1();
        var targets = WorkshopTestKit.Targets(model2);
        var original = WorkshopTestKit.Deltas(loraPath, targets);
        var extracted = WorkshopTestKit.Deltas(result.Output, targets);
        Assert.Equal(original.Keys.Order(StringComparer.Ordinal), extracted.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, delta) in original)
        {
            // The tuned weights are rounded to float32 around the base weights: that noise is all that differs.
            Assert.True(WorkshopTestKit.RelativeDifference(extracted[name], delta) < 1e-4, $"{name}: {WorkshopTestKit.RelativeDifference(extracted[name], delta)}");
        }

        Assert.All(result.Modules, m => Assert.True(m.RelativeError < 1e-4, $"{m.Module}: {m.RelativeError}"));
        using var file = SafetensorsFile.Open(result.Output);
        Assert.Equal("3", file.Metadata["ss_network_dim"]);
        Assert.Equal("3.0", file.Metadata["ss_network_alpha"]);
        Assert.Equal("""{"conv_dim": "2", "conv_alpha": "2"}""", file.Metadata["ss_network_args"]);
    }

    [Fact]
    public void Clamping_costs_what_the_report_says_and_an_unchanged_text_encoder_is_left_out()
    {
        using var dir = TestPaths.NewTempDir();
        string basePath, loraPath;
        using (var model = WorkshopTestKit.Sd1())
        {
            basePath = WorkshopTestKit.SaveSingleFile(model, dir.File("base.safetensors"));
            // Small factors, as fine-tuning leaves them: the clamp then trims only the outlying values.
            loraPath = WorkshopTestKit.WriteRandomLora(model, dir.File("lora.safetensors"), new LoraNetworkOptions { Dim = 2, Alpha = 2, TrainTextEncoder = false }, seed: 6, std: 0.05);
        }

        var tuned = LoraBake.Run(new LoraBakeOptions { Model = basePath, Lora = loraPath, Output = dir.File("tuned.safetensors") }).Output;
        var result = LoraExtract.Run(new LoraExtractOptions { Base = basePath, Tuned = tuned, Output = dir.File("extracted.safetensors"), Rank = new LowRankRule(2) });
        Assert.Contains(result.Notes, n => n.StartsWith("TextEncoder: the largest weight difference is 0", StringComparison.Ordinal));

        using var model2 = WorkshopTestKit.Sd1();
        var targets = WorkshopTestKit.Targets(model2);
        var original = WorkshopTestKit.Deltas(loraPath, targets);
        var extracted = WorkshopTestKit.Deltas(result.Output, targets);
        Assert.Equal(original.Keys.Order(StringComparer.Ordinal), result.Modules.Select(m => m.Module).Order(StringComparer.Ordinal));
        foreach (var report in result.Modules)
        {
            var direct = WorkshopTestKit.RelativeDifference(extracted[report.Module], original[report.Module]);
            Assert.True(report.RelativeError > 1e-4, $"{report.Module}: the 0.99 clamp changed nothing");
            Assert.Equal(direct, report.RelativeError, 1e-3);
        }
    }

    [Fact]
    public void Models_of_different_architectures_or_an_output_over_an_input_are_refused()
    {
        using var dir = TestPaths.NewTempDir();
        string sd1Path, xlPath;
        using (var sd1 = WorkshopTestKit.Sd1())
        {
            sd1Path = WorkshopTestKit.SaveSingleFile(sd1, dir.File("sd1.safetensors"));
        }

        using (var xl = WorkshopTestKit.Sdxl())
        {
            xlPath = WorkshopTestKit.SaveSingleFile(xl, dir.File("xl.safetensors"));
        }

        var architecture = Assert.Throws<ArgumentException>(() => LoraExtract.Run(new LoraExtractOptions { Base = sd1Path, Tuned = xlPath, Output = dir.File("x.safetensors") }));
        Assert.Contains("xl.safetensors is an SDXL model, but", architecture.Message, StringComparison.Ordinal);
        Assert.Contains("sd1.safetensors is an SD 1.x model", architecture.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("x.safetensors")));

        var overwrite = Assert.Throws<ArgumentException>(() => LoraExtract.Run(new LoraExtractOptions { Base = sd1Path, Tuned = xlPath, Output = xlPath }));
        Assert.Contains("would overwrite the input", overwrite.Message, StringComparison.Ordinal);

        var rank = Assert.Throws<ArgumentException>(() => LoraExtract.Run(new LoraExtractOptions { Base = sd1Path, Tuned = sd1Path, Output = dir.File("x.safetensors"), Rank = new LowRankRule(100) }));
        Assert.StartsWith("--rank 100 is above the dimension of module", rank.Message, StringComparison.Ordinal);
    }
}
