using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints.Safetensors;
using SdTune.Conditioning;
using SdTune.Models;
using SdTune.Pipelines;
using SdTune.Training;
using SdTune.Training.Methods;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Methods;

/// <summary>Custom Diffusion: what trains, the diffusers layout it saves, applying it, modifier tokens, exact resume, errors.</summary>
public sealed class CustomDiffusionMethodTests
{
    private static TrainingConfig Config(string root, int steps = 4) =>
        (TrainingTestKit.DreamBoothConfig(root, steps) with { Method = "custom-diffusion", LearningRate = 1e-2, InstancePrompt = "a photo of <new1> toy" })
            .With(CustomDiffusionMethod.ModifierToken, "<new1>")
            .With(CustomDiffusionMethod.InitializerToken, "toy");

    private static Dictionary<string, Tensor> Base(StableDiffusionModel model) => TrainingTestKit.BaseWeights(model);

    private static Dictionary<string, Tensor> Read(string file)
    {
        using var f = SafetensorsFile.Open(file);
        return f.ReadAll().ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    [Fact]
    public void Training_changes_cross_attention_keys_and_values_only_and_writes_the_diffusers_layout()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path);
        using var model = TrainingTestKit.TinyModel();
        // The model comes back as it was: weights restored (checked by the kit), the modifier token gone from the tokenizer.
        var result = TrainingTestKit.RunKeepingBase(config, model);
        Assert.DoesNotContain("<new1>", model.Tokenizer.AddedTokens);

        var folder = result.Outputs[^1];
        Assert.Equal(Path.Combine(config.OutputDir!, "sks"), folder);
        var weights = Read(Path.Combine(folder, CustomDiffusionFormat.WeightsFileName));
        var attentions = model.Unet.named_modules().Where(m => m.name.EndsWith(".attn2", StringComparison.Ordinal)).Select(m => m.name).ToList();
        Assert.NotEmpty(attentions);
        var expected = attentions.SelectMany(a => new[] { $"{a}.processor.to_k_custom_diffusion.weight", $"{a}.processor.to_v_custom_diffusion.weight" });
        Assert.Equal(expected.Order(StringComparer.Ordinal), weights.Keys.Order(StringComparer.Ordinal));
        foreach (var a in attentions)
        {
            var k = weights[$"{a}.processor.to_k_custom_diffusion.weight"];
            var original = model.Unet.state_dict()[$"{a}.to_k.weight"]; // the base weight: the run restored it
            Assert.Equal(original.shape, k.shape);
            Assert.False(k.equal(original).all().item<bool>(), $"{a}.to_k did not train");
        }

        var token = Read(Path.Combine(folder, "<new1>.safetensors"));
        Assert.Equal([1L, 32L], Assert.Single(token, kv => kv.Key == "<new1>").Value.shape);
        var request = CustomDiffusionMethod.Definition.Output.Apply!(new GenerationRequest { Prompt = "x" }, folder);
        Assert.Equal([folder], request.CustomDiffusion);
    }

    [Fact]
    public void Generation_applies_the_weights_exactly_and_reads_the_modifier_token_as_an_embedding()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinyModel();
        var before = Base(model);
        var folder = new Trainer(Config(dir.Path), new TrainerServices { Model = model }).Run().Outputs[^1];
        var weights = Read(Path.Combine(folder, CustomDiffusionFormat.WeightsFileName));

        // Applied: every stored projection equals the file; disposed: the base again, bit for bit.
        using (var applied = AppliedCustomDiffusion.Apply(model.Unet, [folder], _ => Assert.Fail("no warning expected")))
        {
            Assert.Equal(weights.Count, applied.Applied);
            var live = model.Unet.state_dict();
            foreach (var (key, value) in weights)
            {
                var (attention, projection, tensor) = CustomDiffusionFormat.Parse(key)!.Value;
                Assert.True(live[$"{attention}.{projection}.{tensor}"].equal(value).all().item<bool>(), key);
            }
        }

        TrainingTestKit.AssertBitIdentical(before, Base(model));

        GenerationRequest Request(string prompt, params string[] customDiffusion) => new()
        {
            Prompt = prompt, Steps = 2, Seed = 5, Width = 32, Height = 32, Sampler = "Euler", CustomDiffusion = customDiffusion,
        };
        using var pipeline = new StableDiffusionPipeline(model);
        byte[] Pixels(GenerationRequest r)
        {
            using var result = pipeline.Generate(r);
            return result.Images[0].Image.GetPixelSpan().ToArray();
        }

        // The weights alone (the file without its token files) change the picture...
        var weightsOnly = Path.Combine(dir.Path, "weights-only");
        Directory.CreateDirectory(weightsOnly);
        File.Copy(Path.Combine(folder, CustomDiffusionFormat.WeightsFileName), Path.Combine(weightsOnly, "cd.safetensors"));
        Assert.NotEqual(Pixels(Request("a photo of <new1> toy")), Pixels(Request("a photo of <new1> toy", Path.Combine(weightsOnly, "cd.safetensors"))));
        // ...and the folder's <new1>.safetensors makes "<new1>" the learned embedding rather than its literal characters.
        Assert.NotEqual(Pixels(Request("a photo of <new1> toy", Path.Combine(weightsOnly, "cd.safetensors"))), Pixels(Request("a photo of <new1> toy", folder)));
        TrainingTestKit.AssertBitIdentical(before, Base(model));
    }

    [Fact]
    public void Queries_and_outputs_train_too_with_freeze_model_crossattn()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path, steps: 2).With(CustomDiffusionMethod.FreezeModel, "crossattn").With(CustomDiffusionMethod.ModifierToken, "");
        using var model = TrainingTestKit.TinyModel();
        var folder = new Trainer(config, new TrainerServices { Model = model }).Run().Outputs[^1];
        var keys = Read(Path.Combine(folder, CustomDiffusionFormat.WeightsFileName)).Keys.ToList();
        Assert.Contains(keys, k => k.EndsWith(".processor.to_q_custom_diffusion.weight", StringComparison.Ordinal));
        Assert.Contains(keys, k => k.EndsWith(".processor.to_out_custom_diffusion.0.weight", StringComparison.Ordinal));
        Assert.Contains(keys, k => k.EndsWith(".processor.to_out_custom_diffusion.0.bias", StringComparison.Ordinal));
        Assert.All(keys, k => Assert.NotNull(CustomDiffusionFormat.Parse(k)));
        Assert.Single(Directory.GetFiles(folder));
    }

    [Fact]
    public void A_run_resumes_bit_identically()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path, steps: 6) with { SaveEveryNSteps = 3, SaveState = true };
        Dictionary<string, Tensor> weights, token;
        string state;
        using (var model = TrainingTestKit.TinyModel())
        {
            var result = new Trainer(config, new TrainerServices { Model = model }).Run();
            weights = Read(Path.Combine(result.Outputs[^1], CustomDiffusionFormat.WeightsFileName));
            token = Read(Path.Combine(result.Outputs[^1], "<new1>.safetensors"));
            state = Assert.Single(result.StateFolders, s => s.EndsWith("sks-step00000003-state", StringComparison.Ordinal));
        }

        using (var model = TrainingTestKit.TinyModel())
        {
            var result = new Trainer(config with { OutputDir = Path.Combine(dir.Path, "resumed"), Resume = state }, new TrainerServices { Model = model }).Run();
            Assert.Equal(3, result.LossHistory.Count);
            TrainingTestKit.AssertBitIdentical(weights, Read(Path.Combine(result.Outputs[^1], CustomDiffusionFormat.WeightsFileName)));
            TrainingTestKit.AssertBitIdentical(token, Read(Path.Combine(result.Outputs[^1], "<new1>.safetensors")));
        }
    }

    [Fact]
    public void Bad_settings_name_their_key()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path);
        config.Validate();
        Assert.Contains("custom-diffusion", TrainingMethods.Names);
        Assert.Equal("freeze_model", Assert.Throws<TrainingConfigException>(() => config.With(CustomDiffusionMethod.FreezeModel, "all").Validate()).Key);
        Assert.Equal("initializer_token", Assert.Throws<TrainingConfigException>(() => config.With(CustomDiffusionMethod.ModifierToken, "<a>+<b>").Validate()).Key);

        using var model = TrainingTestKit.TinyModel();
        // A token the vocabulary already has, and an initializer that is several tokens.
        var exists = Assert.Throws<TrainingConfigException>(() => new Trainer(config.With(CustomDiffusionMethod.ModifierToken, "toy"), new TrainerServices { Model = model }).Run());
        Assert.Equal("modifier_token", exists.Key);
        var several = Assert.Throws<TrainingConfigException>(() => new Trainer(config.With(CustomDiffusionMethod.InitializerToken, "red car"), new TrainerServices { Model = model }).Run());
        Assert.Equal("initializer_token", several.Key);
        Assert.Contains("2 tokens", several.Message, StringComparison.Ordinal);

        // diffusers' default initializer is read as its script reads it: the vocabulary entry "ktn" (a word piece).
        Assert.True(model.Tokenizer.Encode("ktn").Count > 1);
        var run = new Trainer(config.With(CustomDiffusionMethod.InitializerToken, "ktn") with { MaxTrainSteps = 1 }, new TrainerServices { Model = model }).Run();
        Assert.Equal(1, run.Steps);
    }
}
