using SdTune.Checkpoints.Embeddings;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Embeddings;

public class TextualInversionFileTests
{
    private static string Golden(string name) => Path.Combine(TestPaths.RepositoryRoot, "tests", "fixtures", "pickle", name);

    [Fact]
    public void A1111_pt_with_string_to_param_loads()
    {
        using var embedding = TextualInversionFile.Load(Golden("a1111_embedding.pt"));
        Assert.Equal("a1111_embedding", embedding.Name);
        Assert.Equal(2, embedding.VectorCount);
        Assert.Equal(768, embedding.Width);
        Assert.Equal(1500, embedding.Step);
        Assert.Equal("v1-5-pruned", embedding.CheckpointName);
        // The generator stores arange(2*768)/1000 as [2, 768].
        var vectors = embedding.VectorsFor(TextualInversionEmbedding.DefaultEncoderKey)!;
        Assert.Equal(0.769f, vectors[1, 1].item<float>(), 5);
    }

    [Fact]
    public void Torch_1_11_parameterdict_embedding_loads()
    {
        using var embedding = TextualInversionFile.Load(Golden("parameterdict_embedding.pt"));
        Assert.Equal(3, embedding.VectorCount);
        Assert.Equal(4000, embedding.Step);
        Assert.Equal(7.69f, embedding.VectorsFor("default")![1, 1].item<float>(), 4);
    }

    [Theory]
    [InlineData("emb_params", "kohya emb_params")]
    [InlineData("<my-token>", "diffusers learned_embeds ('<my-token>')")]
    public void Single_tensor_layouts_load(string key, string format)
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("concept.safetensors");
        using var vectors = torch.arange(2 * 1024, dtype: ScalarType.Float16).reshape(2, 1024);
        SafetensorsWriter.Save(path, [new(key, vectors)]);
        using var embedding = TextualInversionFile.Load(path);
        Assert.Equal(("concept", format, 1024L, 2L), (embedding.Name, embedding.Format, embedding.Width, embedding.VectorCount));
        Assert.Equal(ScalarType.Float32, embedding.VectorsFor("default")!.dtype);
    }

    [Fact]
    public void One_dimensional_diffusers_vector_is_one_token()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("learned_embeds.safetensors");
        using var vector = torch.ones(768);
        SafetensorsWriter.Save(path, [new("<cat-toy>", vector)]);
        using var embedding = TextualInversionFile.Load(path);
        Assert.Equal(1, embedding.VectorCount);
    }

    [Fact]
    public void Sdxl_embedding_round_trips_through_save()
    {
        using var dir = TestPaths.NewTempDir();
        var source = dir.File("xl.safetensors");
        using var l = torch.randn(3, 768);
        using var g = torch.randn(3, 1280);
        SafetensorsWriter.Save(source, [new("clip_g", g), new("clip_l", l)]);
        using var embedding = TextualInversionFile.Load(source);
        Assert.Equal((2048L, 3L), (embedding.Width, embedding.VectorCount));
        Assert.Null(embedding.VectorsFor("default"));

        var copy = dir.File("copy.safetensors");
        TextualInversionFile.Save(embedding, copy);
        using var back = TextualInversionFile.Load(copy);
        Assert.True(back.VectorsFor("clip_l")!.equal(l).all().item<bool>());
        Assert.True(back.VectorsFor("clip_g")!.equal(g).all().item<bool>());
    }

    [Fact]
    public void A1111_pt_we_write_has_every_key_and_reads_back()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("my-concept.pt");
        using var vectors = torch.randn(3, 32);
        using (var embedding = new TextualInversionEmbedding("my-concept", new Dictionary<string, Tensor> { ["default"] = vectors.clone() }, "trained", 120, "base-model"))
        {
            TextualInversionFile.SaveA1111(embedding, path, "0123456789");
        }

        var root = Assert.IsType<SdTune.Checkpoints.Pickle.PickleDictionary>(SdTune.Checkpoints.Pickle.TorchPickleFile.Load(path));
        Assert.False(root.IsOrderedDict);
        Assert.Equal(["string_to_token", "string_to_param", "name", "step", "sd_checkpoint", "sd_checkpoint_name"], root.Keys.Cast<string>());
        Assert.Equal(265L, Assert.IsType<SdTune.Checkpoints.Pickle.PickleDictionary>(root["string_to_token"])["*"]);
        Assert.Equal(("my-concept", 120L, "0123456789", "base-model"), ((string)root["name"]!, (long)root["step"]!, (string)root["sd_checkpoint"]!, (string)root["sd_checkpoint_name"]!));
        using var loaded = TextualInversionFile.Load(path);
        Assert.Equal(("my-concept", "A1111 string_to_param", 120L), (loaded.Name, loaded.Format, loaded.Step!.Value));
        Assert.True(vectors.equal(loaded.VectorsFor("default")!).all().item<bool>());
    }

    [Fact]
    public void Sdxl_a1111_pt_is_the_clip_l_clip_g_dict_and_unknown_step_is_none()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("xl.pt");
        using (var embedding = new TextualInversionEmbedding("xl", new Dictionary<string, Tensor> { ["clip_l"] = torch.ones(2, 768), ["clip_g"] = torch.zeros(2, 1280) }, "trained"))
        {
            TextualInversionFile.SaveA1111(embedding, path);
        }

        var root = Assert.IsType<SdTune.Checkpoints.Pickle.PickleDictionary>(SdTune.Checkpoints.Pickle.TorchPickleFile.Load(path));
        Assert.Null(root["step"]);
        Assert.Null(root["sd_checkpoint"]);
        using var loaded = TextualInversionFile.Load(path);
        Assert.Equal((2048L, 2L), (loaded.Width, loaded.VectorCount));
    }

    [Fact]
    public void Diffusers_layout_stores_the_token_and_a_folder_loads_by_its_name()
    {
        using var dir = TestPaths.NewTempDir();
        Directory.CreateDirectory(dir.File("cat-toy"));
        using var vectors = torch.randn(2, 768);
        using (var embedding = new TextualInversionEmbedding("cat-toy", new Dictionary<string, Tensor> { ["default"] = vectors.clone() }, "trained"))
        {
            TextualInversionFile.SaveDiffusers(embedding, "<cat-toy>", dir.File("cat-toy/learned_embeds.safetensors"));
        }

        using (var file = SafetensorsFile.Open(dir.File("cat-toy/learned_embeds.safetensors")))
        {
            Assert.Equal(["<cat-toy>"], file.Tensors.Select(t => t.Name));
            Assert.Equal("pt", file.Metadata["format"]);
        }

        using var loaded = TextualInversionFile.Load(dir.File("cat-toy"));
        Assert.Equal("cat-toy", loaded.Name);
        Assert.True(vectors.equal(loaded.VectorsFor("default")!).all().item<bool>());
        var empty = Directory.CreateDirectory(dir.File("empty")).FullName;
        Assert.Contains("learned_embeds.safetensors", Assert.Throws<CheckpointFormatException>(() => TextualInversionFile.Load(empty)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Files_that_are_not_embeddings_are_rejected_by_name()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("lora.safetensors");
        using var a = torch.zeros(4, 768);
        using var b = torch.zeros(320, 4);
        SafetensorsWriter.Save(path, [new("lora_unet_x.lora_down.weight", a), new("lora_unet_x.lora_up.weight", b)]);
        var error = Assert.Throws<CheckpointFormatException>(() => TextualInversionFile.Load(path));
        Assert.Contains("lora.safetensors", error.Message, StringComparison.Ordinal);
        Assert.Contains("not a textual-inversion embedding", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new long[] { 0, 768 }, new long[] { 0, 1280 }, "no vectors")]
    [InlineData(new long[] { 2, 0 }, new long[] { 2, 0 }, "no vectors")]
    [InlineData(new long[] { 2, 768 }, new long[] { 3, 1280 }, "must hold the same number of vectors")]
    [InlineData(new long[] { 768 }, new long[] { 2, 1280 }, "must hold the same number of vectors")]
    public void Embeddings_without_vectors_or_with_mismatched_encoders_are_rejected_by_name(long[] clipL, long[] clipG, string expected)
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("odd.safetensors");
        using var l = torch.zeros(clipL);
        using var g = torch.zeros(clipG);
        SafetensorsWriter.Save(path, [new("clip_g", g), new("clip_l", l)]);
        var error = Assert.Throws<CheckpointFormatException>(() => TextualInversionFile.Load(path));
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);

        var single = dir.File("single.safetensors");
        SafetensorsWriter.Save(single, [new("emb_params", l)]);
        if (clipL[0] == 0)
        {
            Assert.Contains("no vectors", Assert.Throws<CheckpointFormatException>(() => TextualInversionFile.Load(single)).Message, StringComparison.Ordinal);
        }
    }
}
