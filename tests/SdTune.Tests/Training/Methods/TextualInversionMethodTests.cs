using SdTune.Checkpoints.Embeddings;
using SdTune.Checkpoints.Safetensors;
using SdTune.Conditioning;
using SdTune.Models;
using SdTune.Pipelines;
using SdTune.Training;
using SdTune.Training.Data;
using SdTune.Training.Methods;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Methods;

public sealed class TextualInversionMethodTests
{
    private static TrainingConfig Config(string root, int steps = 3) => new TrainingConfig
    {
        Method = "textual-inversion",
        PretrainedModel = "tiny-model",
        OutputDir = Path.Combine(root, "out"),
        OutputName = "zwx",
        TrainDataDir = Path.GetDirectoryName(TrainingTestKit.Images(Path.Combine(root, "train", "2_zwx"), 4, "a photo of zwx toy"))!,
        Resolution = "32",
        TrainBatchSize = 2,
        LearningRate = 5e-2,
        MaxTrainSteps = steps,
        Seed = 11,
    }.With(TextualInversionMethod.TokenString, "zwx").With(TextualInversionMethod.InitWord, "toy").With(TextualInversionMethod.NumVectorsPerToken, 2);

    private static Dictionary<string, Tensor> AllWeights(StableDiffusionModel model) =>
        TrainingTestKit.Snapshot(model.Modules.SelectMany((m, i) => m.state_dict().Select(kv => new KeyValuePair<string, Tensor>($"{i}.{kv.Key}", kv.Value))));

    [Fact]
    public void Only_the_new_rows_train_every_model_weight_stays_bit_identical_and_the_model_is_restored()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinyModel();
        var before = AllWeights(model);
        Assert.True(model.Tokenizer.TryGetTokenId("toy</w>", out var toyId));
        using var toyRow = model.TextEncoder.TokenEmbedding.weight![toyId].detach().clone();

        var result = new Trainer(Config(dir.Path), new TrainerServices { Model = model }).Run();

        Assert.Equal(3, result.Steps);
        TrainingTestKit.AssertBitIdentical(before, AllWeights(model));
        Assert.Equal(49408, model.Tokenizer.VocabSize);
        Assert.Null(model.TextEncoder.AddedTokenRows);
        var output = Assert.Single(result.Outputs);
        Assert.Equal(Path.Combine(dir.Path, "out", "zwx.safetensors"), output);
        using var embedding = TextualInversionFile.Load(output);
        Assert.Equal(("zwx", "kohya emb_params", 2L, 32L, 3L), (embedding.Name, embedding.Format, embedding.VectorCount, embedding.Width, embedding.Step!.Value));
        var vectors = embedding.VectorsFor(TextualInversionEmbedding.DefaultEncoderKey)!;
        for (var i = 0; i < 2; i++)
        {
            Assert.False(vectors[i].allclose(toyRow, rtol: 0, atol: 1e-6), $"vector {i} did not move from the init word");
        }
    }

    [Fact]
    public void Saved_in_every_layout_the_embedding_reloads_the_same_and_changes_generation_by_name()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path).With(TextualInversionMethod.SaveEmbeddingAs, ["pt", "diffusers", "safetensors"]);
        TrainingResult result;
        using (var model = TrainingTestKit.TinyModel())
        {
            result = new Trainer(config, new TrainerServices { Model = model }).Run();
        }

        var outDir = Path.Combine(dir.Path, "out");
        Assert.Equal([Path.Combine(outDir, "zwx"), Path.Combine(outDir, "zwx.pt"), Path.Combine(outDir, "zwx.safetensors")], result.Outputs);
        using (var diffusers = SafetensorsFile.Open(Path.Combine(outDir, "zwx", "learned_embeds.safetensors")))
        {
            Assert.Equal(["zwx"], diffusers.Tensors.Select(t => t.Name));
        }

        var embeddings = result.Outputs.Select(TextualInversionFile.Load).ToList();
        try
        {
            Assert.All(embeddings, e => Assert.Equal("zwx", e.Name));
            Assert.All(embeddings, e => Assert.True(embeddings[0].VectorsFor("default")!.equal(e.VectorsFor("default")!).all().item<bool>(), e.Format));
        }
        finally
        {
            embeddings.ForEach(e => e.Dispose());
        }

        using var baseModel = TrainingTestKit.TinyModel();
        using var pipeline = new StableDiffusionPipeline(baseModel);
        var plain = Generate(pipeline, []);
        var withEach = result.Outputs.Select(o => Generate(pipeline, [o])).ToList();
        Assert.NotEqual(plain, withEach[0]);
        Assert.All(withEach, images => Assert.Equal(withEach[0], images));
    }

    [Fact]
    public void Encoding_with_the_new_tokens_in_training_equals_encoding_the_saved_embedding_by_name()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinyModel();
        using var method = new TextualInversionMethod();
        method.Prepare(Context(Config(dir.Path).With(TextualInversionMethod.InitWord, ""), model));
        var path = dir.File("zwx.safetensors");
        using (var embedding = method.Tokens.ToEmbedding("zwx", 0, null))
        {
            TextualInversionFile.Save(embedding, path);
        }

        using var noGrad = no_grad();
        var caption = method.TrainingCaption("a photo of zwx toy", new SeededRandom(1));
        Assert.Equal("a photo of zwx zwx1 toy", caption);
        using var trained = TextConditioner.ForModel(model).EncodeCaptions([caption]);
        method.Dispose();
        using var library = EmbeddingLibrary.Empty.With([path], model.Tokenizer, TextConditioner.EmbeddingWidths(model));
        using var byName = TextConditioner.ForModel(model, embeddings: library).EncodePrompt("a photo of zwx toy", 1);
        Assert.True(trained.Context.allclose(byName.Context, rtol: 1e-5, atol: 1e-6), "the embedding spliced in by name does not give the trained conditioning");
    }

    [Fact]
    public void The_init_word_gives_one_row_for_all_vectors_or_one_per_vector_and_other_counts_are_refused()
    {
        using var model = TrainingTestKit.TinyModel();
        var encoder = TextConditioner.ForModel(model).Encoders[0];
        var table = encoder.Encoder.TokenEmbedding.weight!;
        var ids = model.Tokenizer.Encode("red car");
        Assert.Equal(2, ids.Count);

        using var one = TextualInversionMethod.InitialRows(encoder, "car", 3);
        Assert.All(Enumerable.Range(0, 3), i => Assert.True(one[i].equal(table[ids[1]]).all().item<bool>()));
        using var each = TextualInversionMethod.InitialRows(encoder, "red car", 2);
        Assert.True(each[0].equal(table[ids[0]]).all().item<bool>() && each[1].equal(table[ids[1]]).all().item<bool>());
        var error = Assert.Throws<TrainingConfigException>(() => TextualInversionMethod.InitialRows(encoder, "red car", 3));
        Assert.Equal("init_word", error.Key);
        Assert.Contains("2 tokens", error.Message, StringComparison.Ordinal);
        using var random = TextualInversionMethod.InitialRows(encoder, "", 4);
        Assert.Equal([4L, 32L], random.shape);
        Assert.False(random[0].equal(random[1]).all().item<bool>());
    }

    [Fact]
    public void Templates_replace_the_captions_and_sample_prompts_get_the_new_tokens()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinyModel();
        using var method = new TextualInversionMethod();
        method.Prepare(Context(Config(dir.Path).With(TextualInversionMethod.UseStyleTemplate, true), model));
        var drawn = Enumerable.Range(0, 40).Select(i => method.TrainingCaption("ignored caption", new SeededRandom((ulong)i))).Distinct().ToList();
        Assert.True(drawn.Count > 5, "templates are not drawn at random");
        Assert.All(drawn, c => Assert.Contains(c.Replace("zwx zwx1", "{}", StringComparison.Ordinal), PromptTemplates.Style));
        Assert.Equal("a zwx zwx1 on a hill --n zwx zwx1", method.SamplePrompt("a zwx on a hill --n zwx"));
    }

    [Theory]
    [InlineData("", "token_string", "is required")]
    [InlineData("two words", "token_string", "one word")]
    public void Token_strings_that_cannot_be_tokens_are_refused_by_key(string token, string key, string expected)
    {
        using var dir = TestPaths.NewTempDir();
        var error = Assert.Throws<TrainingConfigException>(() => Config(dir.Path).With(TextualInversionMethod.TokenString, token).Validate());
        Assert.Equal(key, error.Key);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Conflicting_templates_and_a_token_the_vocabulary_already_has_are_refused()
    {
        using var dir = TestPaths.NewTempDir();
        var both = Config(dir.Path).With(TextualInversionMethod.UseObjectTemplate, true).With(TextualInversionMethod.UseStyleTemplate, true);
        Assert.Equal("use_object_template", Assert.Throws<TrainingConfigException>(both.Validate).Key);

        using var model = TrainingTestKit.TinyModel();
        var existing = Config(dir.Path).With(TextualInversionMethod.TokenString, "star");
        var error = Assert.Throws<TrainingConfigException>(() => new Trainer(existing, new TrainerServices { Model = model }).Run());
        Assert.Equal("token_string", error.Key);
        Assert.Contains("already contains the token \"star\"", error.Message, StringComparison.Ordinal);
        Assert.Equal(49408, model.Tokenizer.VocabSize);
    }

    [Fact]
    public void Sdxl_trains_rows_in_both_encoders_and_saves_clip_l_and_clip_g()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinySdxl();
        var before = AllWeights(model);
        var result = new Trainer(Config(dir.Path, steps: 2), new TrainerServices { Model = model }).Run();
        TrainingTestKit.AssertBitIdentical(before, AllWeights(model));
        using var embedding = TextualInversionFile.Load(Assert.Single(result.Outputs));
        Assert.Equal(("SDXL clip_l/clip_g", 2L, 64L), (embedding.Format, embedding.VectorCount, embedding.Width));
        Assert.Equal(49408, model.Tokenizer2!.VocabSize);
    }

    [Fact]
    public void A_run_resumed_from_its_state_gives_the_same_embedding_bit_for_bit()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path, steps: 6).With(TextualInversionMethod.UseObjectTemplate, true) with
        {
            SaveEveryNSteps = 3,
            SaveState = true,
            LrScheduler = "cosine",
        };
        TrainingResult straight;
        using (var model = TrainingTestKit.TinyModel())
        {
            straight = new Trainer(config, new TrainerServices { Model = model }).Run();
        }

        Assert.Contains(Path.Combine(dir.Path, "out", "zwx-step00000003.safetensors"), straight.Outputs);
        var state = Assert.Single(straight.StateFolders, s => s.EndsWith("zwx-step00000003-state", StringComparison.Ordinal));
        using (var model = TrainingTestKit.TinyModel())
        {
            var resumed = new Trainer(config with { OutputDir = Path.Combine(dir.Path, "resumed"), Resume = state }, new TrainerServices { Model = model }).Run();
            Assert.Equal(3, resumed.LossHistory.Count);
            using var expected = TextualInversionFile.Load(straight.Outputs[^1]);
            using var actual = TextualInversionFile.Load(resumed.Outputs[^1]);
            Assert.True(expected.VectorsFor("default")!.equal(actual.VectorsFor("default")!).all().item<bool>());
        }
    }

    private static TrainingContext Context(TrainingConfig config, StableDiffusionModel model) => new()
    {
        Config = config,
        Model = model,
        WeightDType = ScalarType.Float32,
        PredictionType = PredictionType.Epsilon,
        Warnings = [],
    };

    private static List<byte[]> Generate(StableDiffusionPipeline pipeline, IReadOnlyList<string> embeddings)
    {
        using var result = pipeline.Generate(new GenerationRequest
        {
            Prompt = "a photo of zwx toy",
            Steps = 3,
            Seed = 5,
            Width = 32,
            Height = 32,
            CfgScale = 1,
            Embeddings = embeddings,
        });
        return [.. result.Images.Select(i => i.Image.Bytes)];
    }
}
