using System.Text.Json.Nodes;
using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Models;
using SdTune.Training;
using SdTune.Training.Methods;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Methods;

/// <summary>The AdaLoRA method: the exported LoRA equals the trained triplets, the budget ends where configured and unevenly, exact resume, errors.</summary>
public sealed class AdaLoraMethodTests
{
    private static TrainingConfig Config(string root, int steps = 12) =>
        (TrainingTestKit.LoraConfig(root, steps) with { Method = "adalora", LearningRate = 1e-2 })
            .With(AdaLoraMethod.InitR, 4).With(AdaLoraMethod.TargetR, 2).With(LoraMethod.NetworkAlpha, 4.0)
            .With(AdaLoraMethod.Tinit, 2).With(AdaLoraMethod.Tfinal, 3).With(AdaLoraMethod.DeltaT, 2);

    [Fact]
    public void Training_ends_at_the_target_budget_spread_unevenly_and_writes_a_standard_lora()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path);
        using var model = TrainingTestKit.TinyModel();
        var result = TrainingTestKit.RunKeepingBase(config, model);
        var lora = Assert.Single(result.Outputs, o => o.EndsWith(".safetensors", StringComparison.Ordinal));
        var ranksPath = Assert.Single(result.Outputs, o => o.EndsWith("_ranks.json", StringComparison.Ordinal));

        var json = JsonNode.Parse(File.ReadAllText(ranksPath))!;
        var ranks = json["ranks"]!.AsObject().ToDictionary(kv => kv.Key, kv => (int)kv.Value!, StringComparer.Ordinal);
        // Attention q/k/v/out and both feed-forward layers of every transformer block, and the text encoder's projections.
        Assert.Contains(ranks.Keys, k => k.EndsWith("_attn2_to_k", StringComparison.Ordinal));
        Assert.Contains(ranks.Keys, k => k.EndsWith("_ff_net_2", StringComparison.Ordinal));
        Assert.Contains(ranks.Keys, k => k.StartsWith("lora_te_", StringComparison.Ordinal));
        Assert.DoesNotContain(ranks.Keys, k => k.EndsWith("proj_in", StringComparison.Ordinal) || k.EndsWith("proj_out", StringComparison.Ordinal));
        Assert.Equal(2 * ranks.Count, ranks.Values.Sum());
        Assert.Equal(2 * ranks.Count, (int)json["total_rank"]!);
        Assert.True(ranks.Values.Distinct().Count() > 1, "the kept ranks are spread unevenly");
        Assert.Contains(ranks.Values, r => r > 2);

        // An ordinary kohya LoRA with per-layer ranks: every tensor matches, each module has its layer's kept rank.
        var file = LoraFileReader.Read(lora, new LoraTargets(model.Unet, model.TextEncoder));
        Assert.Empty(file.UnmatchedKeys);
        Assert.Equal("Dynamic", file.Metadata["ss_network_dim"]);
        var kept = ranks.Where(kv => kv.Value > 0).ToDictionary();
        Assert.Equal(kept.Keys.Order(StringComparer.Ordinal), file.Network.Entries.Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.All(file.Network.Entries, e => Assert.Equal((kept[e.Name], (double)kept[e.Name]), (e.Module.Rank, e.Module.Alpha)));
        file.Network.Dispose();
    }

    [Fact]
    public void The_exported_lora_gives_the_same_outputs_as_the_trained_triplets()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path);
        using var model = TrainingTestKit.TinyModel();
        using var scope = NewDisposeScope();
        var generator = new Generator(11);
        var latents = randn([1, 4, 16, 16], generator: generator);
        var ids = tensor(model.Tokenizer.EncodeForModel("a toy").InputIds.Select(i => (long)i).ToArray(), [1, 77]);
        Tensor Output()
        {
            using var noGrad = no_grad();
            return model.Unet.forward(latents, tensor(new long[] { 500 }), model.TextEncoder.Encode(ids));
        }

        var path = Path.Combine(dir.Path, "adalora.safetensors");
        Tensor trained;
        using (var method = new AdaLoraMethod())
        {
            method.Prepare(new TrainingContext { Config = config, Model = model, WeightDType = ScalarType.Float32, PredictionType = PredictionType.Epsilon, Warnings = [] });
            using (no_grad())
            {
                foreach (var (_, module) in method.Modules)
                {
                    module.Lambda.copy_(randn(module.Lambda.shape, generator: generator));
                }
            }

            // Scores from one real backward pass, then the budget: 2 of 4 triplets per layer on average.
            var loss = model.Unet.forward(latents, tensor(new long[] { 500 }), model.TextEncoder.Encode(ids)).pow(2).mean();
            loss.backward();
            method.Allocator.UpdateScores();
            method.Allocator.Allocate(2 * method.Modules.Count);
            trained = Output();
            using var exported = method.ExportLora();
            Assert.True(exported.Entries.Count > 0);
            KohyaLoraFormat.Save(path, exported);
        }

        var plain = Output();
        Assert.False(plain.allclose(trained, rtol: 1e-4, atol: 1e-5), "the triplets change the output");
        using var applied = LoraApplier.Apply(new LoraTargets(model.Unet, model.TextEncoder), path);
        var fromFile = Output();
        Assert.True(trained.allclose(fromFile, rtol: 1e-4, atol: 1e-5), $"max difference {(trained - fromFile).abs().max().item<float>()}");
    }

    [Fact]
    public void A_run_resumes_bit_identically_scores_and_masks_included()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path, steps: 10) with { SaveEveryNSteps = 4, SaveState = true };
        Dictionary<string, Tensor> straight;
        string straightRanks;
        string state;
        using (var model = TrainingTestKit.TinyModel())
        {
            var result = new Trainer(config, new TrainerServices { Model = model }).Run();
            straight = Tensors(result.Outputs.Last(o => o.EndsWith(".safetensors", StringComparison.Ordinal)));
            straightRanks = Ranks(result.Outputs.Last(o => o.EndsWith("_ranks.json", StringComparison.Ordinal)));
            state = Assert.Single(result.StateFolders, s => s.EndsWith("toy-step00000004-state", StringComparison.Ordinal));
        }

        using (var model = TrainingTestKit.TinyModel())
        {
            var result = new Trainer(config with { OutputDir = Path.Combine(dir.Path, "resumed"), Resume = state }, new TrainerServices { Model = model }).Run();
            Assert.Equal(6, result.LossHistory.Count);
            TrainingTestKit.AssertBitIdentical(straight, Tensors(result.Outputs.Last(o => o.EndsWith(".safetensors", StringComparison.Ordinal))));
            Assert.Equal(straightRanks, Ranks(result.Outputs.Last(o => o.EndsWith("_ranks.json", StringComparison.Ordinal))));
        }
    }

    [Fact]
    public void Impossible_settings_name_their_key()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path);
        config.Validate();
        Assert.Contains("adalora", TrainingMethods.Names);
        Assert.Equal("target_r", Assert.Throws<TrainingConfigException>(() => config.With(AdaLoraMethod.TargetR, 5).Validate()).Key);
        var phases = Assert.Throws<TrainingConfigException>(() => config.With(AdaLoraMethod.Tinit, 6).With(AdaLoraMethod.Tfinal, 6).Validate());
        Assert.Equal("tinit", phases.Key);
        Assert.Contains("12 steps", phases.Message, StringComparison.Ordinal);

        // With the length given in epochs the check runs when the run knows its steps (4 images x 2 repeats / batch 2 = 4).
        using var model = TrainingTestKit.TinyModel();
        var epochs = config.With(AdaLoraMethod.Tinit, 3).With(AdaLoraMethod.Tfinal, 1) with { MaxTrainSteps = null, MaxTrainEpochs = 1 };
        epochs.Validate();
        Assert.Equal("tinit", Assert.Throws<TrainingConfigException>(() => new Trainer(epochs, new TrainerServices { Model = model }).Run()).Key);
    }

    private static Dictionary<string, Tensor> Tensors(string path)
    {
        using var source = SdTune.Checkpoints.TensorSources.Open(path);
        return source.Entries.ToDictionary(e => e.Name, e => source.Read(e.Name), StringComparer.Ordinal);
    }

    private static string Ranks(string path) => JsonNode.Parse(File.ReadAllText(path))!["ranks"]!.ToJsonString();
}
