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
