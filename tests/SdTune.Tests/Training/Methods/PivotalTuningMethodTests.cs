using SdTune.Checkpoints.Embeddings;
using SdTune.Checkpoints.Safetensors;
using SdTune.Pipelines;
using SdTune.Training;
using SdTune.Training.Methods;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Methods;

public sealed class PivotalTuningMethodTests
{
    private static TrainingConfig Config(string root, int steps = 4) => new TrainingConfig
    {
        Method = "pivotal",
        PretrainedModel = "tiny-model",
        OutputDir = Path.Combine(root, "out"),
        OutputName = "zwx",
        TrainDataDir = Path.GetDirectoryName(TrainingTestKit.Images(Path.Combine(root, "train", "2_zwx"), 4, "a photo of zwx toy"))!,
        Resolution = "32",
        TrainBatchSize = 2,
        LearningRate = 1e-2,
        MaxTrainSteps = steps,
        Seed = 21,
    }.With(PivotalTuningMethod.TokenAbstraction, "zwx").With(LoraMethod.NetworkDim, 4).With(LoraMethod.NetworkAlpha, 4.0);

    private static Tensor Vectors(string file)
    {
        using var embedding = TextualInversionFile.Load(file);
        return embedding.VectorsFor("default")!.clone();
    }

    private static Dictionary<string, Tensor> Lora(string file)
    {
        using var f = SafetensorsFile.Open(file);
        return f.ReadAll().ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
    }

    [Fact]
    public void The_embeddings_freeze_at_the_pivot_while_the_lora_goes_on()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path).With(PivotalTuningMethod.TiFraction, 0.5) with { SaveEveryNSteps = 1 };
        using var model = TrainingTestKit.TinyModel();
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();

        string Output(string suffix) => Path.Combine(dir.Path, "out", "zwx" + suffix + ".safetensors");
        Assert.Contains(Output("_emb"), result.Outputs);
        Assert.Equal(Output(""), result.Outputs[^1]);
        var vectors = new[] { "-step00000001", "-step00000002", "-step00000003", "" }.Select(s => Vectors(Output(s + "_emb"))).ToList();
        Assert.False(vectors[0].equal(vectors[1]).all().item<bool>(), "the embeddings did not train in step 2 (before the pivot)");
        Assert.True(vectors[1].equal(vectors[2]).all().item<bool>(), "the embeddings moved after the pivot (step 3)");
        Assert.True(vectors[1].equal(vectors[3]).all().item<bool>(), "the embeddings moved after the pivot (step 4)");
        var loraAtPivot = Lora(Output("-step00000002"));
        var loraFinal = Lora(Output(""));
        Assert.Contains(loraFinal, kv => !kv.Value.equal(loraAtPivot[kv.Key]).all().item<bool>());
        Assert.DoesNotContain(loraFinal.Keys, k => k.StartsWith("lora_te", StringComparison.Ordinal));
        using (var emb = SafetensorsFile.Open(Output("_emb")))
        {
            Assert.Equal(["clip_l"], emb.Tensors.Select(t => t.Name));
            Assert.Equal("zwx", emb.Metadata[LoraEmbeddings.AbstractionMetadataKey]);
        }

        Assert.Equal(49408, model.Tokenizer.VocabSize);
    }

    [Fact]
    public void Captions_get_the_new_tokens_per_abstraction_word()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinyModel();
        using var method = new PivotalTuningMethod();
        method.Prepare(new TrainingContext
        {
            Config = Config(dir.Path).With(PivotalTuningMethod.TokenAbstraction, "TOK,TOK2").With(PivotalTuningMethod.TokensPerAbstraction, 2),
            Model = model,
            WeightDType = ScalarType.Float32,
            PredictionType = SdTune.Models.PredictionType.Epsilon,
            Warnings = [],
        });
        Assert.Equal("<s2><s3> beside <s0><s1>", method.TrainingCaption("TOK2 beside TOK", new SdTune.Training.Data.SeededRandom(1)));
        Assert.Equal(["<s0>", "<s1>", "<s2>", "<s3>"], method.Tokens.Tokens);
        Assert.Equal(49412, model.Tokenizer.VocabSize);
    }

    [Fact]
    public void Generate_loads_the_embeddings_with_the_lora_and_reads_the_abstraction_word()
    {
        using var dir = TestPaths.NewTempDir();
        TrainingResult result;
        using (var model = TrainingTestKit.TinyModel())
        {
            result = new Trainer(Config(dir.Path, steps: 2), new TrainerServices { Model = model }).Run();
        }

        var lora = result.Outputs[^1];
        using var baseModel = TrainingTestKit.TinyModel();
        using var pipeline = new StableDiffusionPipeline(baseModel);
        var byWord = Generate(pipeline, "a photo of zwx toy", lora);
        Assert.Equal(byWord, Generate(pipeline, "a photo of zwx_emb toy", lora));
        Assert.Equal(byWord, Generate(pipeline, $"a photo of zwx toy <lora:{lora}:1>", null));
        File.Delete(Path.ChangeExtension(lora, null) + "_emb.safetensors");
        Assert.NotEqual(byWord, Generate(pipeline, "a photo of zwx toy", lora));
    }

    [Fact]
    public void A_run_resumed_before_the_pivot_matches_the_straight_run_bit_for_bit()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path, steps: 6).With(PivotalTuningMethod.EmbeddingWeightDecay, 0.1) with { SaveEveryNSteps = 2, SaveState = true, TextEncoderLr = 5e-3 };
        TrainingResult straight;
        using (var model = TrainingTestKit.TinyModel())
        {
            straight = new Trainer(config, new TrainerServices { Model = model }).Run();
        }

        var state = Assert.Single(straight.StateFolders, s => s.EndsWith("zwx-step00000002-state", StringComparison.Ordinal));
        using (var model = TrainingTestKit.TinyModel())
        {
            var resumed = new Trainer(config with { OutputDir = Path.Combine(dir.Path, "resumed"), Resume = state }, new TrainerServices { Model = model }).Run();
            Assert.Equal(4, resumed.LossHistory.Count);
            TrainingTestKit.AssertBitIdentical(Lora(straight.Outputs[^1]), Lora(resumed.Outputs[^1]));
            Assert.True(Vectors(Path.Combine(dir.Path, "out", "zwx_emb.safetensors")).equal(Vectors(Path.Combine(dir.Path, "resumed", "zwx_emb.safetensors"))).all().item<bool>());
        }
    }

    [Fact]
    public void Prodigy_trains_every_group_at_the_learning_rate_and_says_text_encoder_lr_is_not_used()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path, steps: 2) with { OptimizerType = "Prodigy", LearningRate = 1.0, TextEncoderLr = 0.5 };
        using var model = TrainingTestKit.TinyModel();
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        Assert.Contains(result.Warnings, w => w.Contains("text_encoder_lr", StringComparison.Ordinal) && w.Contains("Prodigy", StringComparison.Ordinal));
    }

    [Fact]
    public void Abstraction_words_must_be_words()
    {
        using var dir = TestPaths.NewTempDir();
        var error = Assert.Throws<TrainingConfigException>(() => Config(dir.Path).With(PivotalTuningMethod.TokenAbstraction, "two words").Validate());
        Assert.Equal("token_abstraction", error.Key);
    }

    private static List<byte[]> Generate(StableDiffusionPipeline pipeline, string prompt, string? lora)
    {
        using var result = pipeline.Generate(new GenerationRequest
        {
            Prompt = prompt,
            Steps = 3,
            Seed = 5,
            Width = 32,
            Height = 32,
            CfgScale = 1,
            Loras = lora is null ? [] : [(lora, 1.0)],
        });
        return [.. result.Images.Select(i => i.Image.Bytes)];
    }
}
