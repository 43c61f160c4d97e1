using SdTune.Adapters;
using SdTune.Checkpoints.Safetensors;
using SdTune.Workshop.Lora;
using static TorchSharp.torch;

namespace SdTune.Tests.Workshop;

public class LoraResizeTests
{
    [Fact]
    public void Resizing_to_the_full_rank_is_lossless_and_keeps_the_scale()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = WorkshopTestKit.Sd1();
        var targets = WorkshopTestKit.Targets(model);
        var input = WorkshopTestKit.WriteRandomLora(model, dir.File("in.safetensors"), new LoraNetworkOptions { Dim = 4, Alpha = 2, ConvDim = 3, ConvAlpha = 1 }, seed: 7);
        var result = LoraResize.Run(new LoraResizeOptions { Input = input, Output = dir.File("out.safetensors"), Rank = new LowRankRule(4), ConvRank = new LowRankRule(3, RankOption: "--conv-rank") }, targets);

        var before = WorkshopTestKit.Deltas(input, targets);
        var after = WorkshopTestKit.Deltas(result.Output, targets);
        Assert.Equal(before.Keys.Order(StringComparer.Ordinal), after.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, delta) in before)
        {
            Assert.True(WorkshopTestKit.RelativeDifference(after[name], delta) < 1e-5, $"{name}: {WorkshopTestKit.RelativeDifference(after[name], delta)}");
        }

        Assert.All(result.Modules, m => Assert.True(m.RelativeError < 1e-5 && m.RetainedFrobenius > 1 - 1e-6, $"{m.Module}: {m.RelativeError}, {m.RetainedFrobenius}"));
        using var file = SafetensorsFile.Open(result.Output);
        // New alpha = scale · new rank: unchanged at the same rank.
        Assert.Equal("4", file.Metadata["ss_network_dim"]);
        Assert.Equal("2.0", file.Metadata["ss_network_alpha"]);
        Assert.Equal("""{"conv_dim": "3", "conv_alpha": "1"}""", file.Metadata["ss_network_args"]);
    }

    [Fact]
    public void Reported_error_and_retained_norm_match_a_direct_computation()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = WorkshopTestKit.Sd1();
        var targets = WorkshopTestKit.Targets(model);
        var input = WorkshopTestKit.WriteRandomLora(model, dir.File("in.safetensors"), new LoraNetworkOptions { Dim = 6, Alpha = 3 }, seed: 8);
        var result = LoraResize.Run(new LoraResizeOptions { Input = input, Output = dir.File("out.safetensors"), Rank = new LowRankRule(2) }, targets);

        var before = WorkshopTestKit.Deltas(input, targets);
        var after = WorkshopTestKit.Deltas(result.Output, targets);
        var ranks = WorkshopTestKit.Ranks(result.Output, targets);
        using var file = SafetensorsFile.Open(result.Output);
        Assert.Equal("1.0", file.Metadata["ss_network_alpha"]); // 3/6 · 2
        foreach (var report in result.Modules)
        {
            using var scope = NewDisposeScope();
            var exact = before[report.Module];
            var direct = WorkshopTestKit.RelativeDifference(after[report.Module], exact);
            Assert.Equal(direct, report.RelativeError, 1e-5);
            Assert.Equal((6, 2, 2), (report.InputRank, report.Rank, ranks[report.Module]));

            var singular = linalg.svdvals(exact.flatten(1));
            var retained = Math.Sqrt(singular.narrow(0, 0, 2).square().sum().item<double>() / singular.square().sum().item<double>());
            Assert.Equal(retained, report.RetainedFrobenius, 1e-5);
            Assert.Equal(Math.Sqrt(1 - (retained * retained)), direct, 1e-4);
        }
    }

    [Fact]
    public void Dynamic_methods_choose_the_rank_from_the_singular_values()
    {
        double[] values = [8, 4, 2, 1, 0.5];
        Assert.Equal(3, new LowRankRule(16, DynamicRankMethod.SvRatio, 4).Choose(values, 5));    // ≥ 8/4
        Assert.Equal(2, new LowRankRule(2, DynamicRankMethod.SvRatio, 100).Choose(values, 5));   // capped at the rank
        // Σ S = 15.5: 8 + 4 + 2 = 14 ≥ 0.9 · 15.5 = 13.95.
        Assert.Equal(3, new LowRankRule(16, DynamicRankMethod.SvCumulative, 0.9).Choose(values, 5));
        // Σ S² = 85.25: 64 + 16 = 80 ≥ 0.95² · 85.25 = 76.9.
        Assert.Equal(2, new LowRankRule(16, DynamicRankMethod.SvFro, 0.95).Choose(values, 5));
        Assert.Equal(5, new LowRankRule(16, DynamicRankMethod.SvFro, 1).Choose(values, 5));
        Assert.Equal(4, new LowRankRule(16, DynamicRankMethod.SvFro, 1).Choose(values, 4));      // capped at the bound
        Assert.Equal(DynamicRankMethod.SvFro, LowRankRule.ParseMethod("sv_fro"));
        Assert.Contains("--dynamic-method", Assert.Throws<ArgumentException>(() => LowRankRule.ParseMethod("sv_bogus")).Message, StringComparison.Ordinal);
        Assert.Contains("--dynamic-param", Assert.Throws<ArgumentException>(() => new LowRankRule(4, DynamicRankMethod.SvFro, 1.5).Validate()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dynamic_resize_writes_each_module_at_its_own_rank()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = WorkshopTestKit.Sd1();
        var targets = WorkshopTestKit.Targets(model);
        var input = WorkshopTestKit.WriteRandomLora(model, dir.File("in.safetensors"), new LoraNetworkOptions { Dim = 6, Alpha = 6 }, seed: 9);
        var result = LoraResize.Run(new LoraResizeOptions { Input = input, Output = dir.File("out.safetensors"), Rank = new LowRankRule(5, DynamicRankMethod.SvFro, 0.8) }, targets);
        var ranks = WorkshopTestKit.Ranks(result.Output, targets);
        Assert.All(result.Modules, m =>
        {
            Assert.Equal(m.Rank, ranks[m.Module]);
            Assert.InRange(m.Rank, 1, 5);
            Assert.True(m.RetainedFrobenius >= 0.8 || m.Rank == 5, $"{m.Module}: {m.RetainedFrobenius} at rank {m.Rank}");
        });
        using var file = SafetensorsFile.Open(result.Output);
        Assert.Equal("Dynamic", file.Metadata["ss_network_dim"]);
    }

    [Fact]
    public void A_rank_above_a_modules_dimension_or_writing_over_the_input_is_refused()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = WorkshopTestKit.Sd1();
        var targets = WorkshopTestKit.Targets(model);
        var input = WorkshopTestKit.WriteRandomLora(model, dir.File("in.safetensors"), new LoraNetworkOptions { Dim = 4 }, seed: 7);
        var tooHigh = Assert.Throws<ArgumentException>(() => LoraResize.Run(new LoraResizeOptions { Input = input, Output = dir.File("out.safetensors"), Rank = new LowRankRule(4096) }, targets));
        Assert.StartsWith("--rank 4096 is above the dimension of module 'lora_", tooHigh.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(dir.File("out.safetensors")));

        var before = File.ReadAllBytes(input);
        var overwrite = Assert.Throws<ArgumentException>(() => LoraResize.Run(new LoraResizeOptions { Input = input, Output = input, Rank = new LowRankRule(2) }, targets));
        Assert.Contains("would overwrite the input", overwrite.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(input));
    }

    [Fact]
    public void Files_of_the_published_families_are_read_without_the_base_model()
    {
        // A real SD 1.5 layer name with its real shapes: the tool builds the SD 1.5 models without weights to place it.
        using var dir = TestPaths.NewTempDir();
        var input = dir.File("sd15.safetensors");
        const string name = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k";
        var generator = new Generator(3);
        using var down = randn([4, 768], generator: generator);
        using var up = randn([320, 4], generator: generator);
        using var alpha = tensor(4f);
        SafetensorsWriter.Save(input, [new(name + ".lora_down.weight", down), new(name + ".lora_up.weight", up), new(name + ".alpha", alpha)], new Dictionary<string, string>());

        var result = LoraResize.Run(new LoraResizeOptions { Input = input, Output = dir.File("out.safetensors"), Rank = new LowRankRule(2) });
        var report = Assert.Single(result.Modules);
        Assert.Equal((name, 4, 2), (report.Module, report.InputRank, report.Rank));
        using var file = SafetensorsFile.Open(result.Output);
        Assert.Equal([2L, 768L], file.Info(name + ".lora_down.weight").ShapeArray);
        Assert.Equal([320L, 2L], file.Info(name + ".lora_up.weight").ShapeArray);
        Assert.Equal("sd_v1", file.Metadata["ss_base_model_version"]);
    }
}
