using System.Numerics;
using SdTune.Checkpoints.Pickle;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Pickle;

/// <summary>Files written by PyTorch's own torch.save; expected values are the formulas in generate.py.</summary>
public sealed class TorchPickleFileGoldenTests
{
    private static readonly string[] BasicKeys = ["z.fp32", "a.fp16", "m.bf16", "b.int64", "c.bool", "d.scalar", "e.int32", "f.uint8", "g.int8", "h.int16", "i.empty"];

    internal static float[] Floats(Tensor t) => t.to_type(ScalarType.Float32).data<float>().ToArray();

    internal static long[] Longs(Tensor t) => t.to_type(ScalarType.Int64).data<long>().ToArray();

    [Fact]
    public void Reads_every_dtype_of_a_torch_save_state_dict_in_file_order()
    {
        var root = Assert.IsType<PickleDictionary>(TorchPickleFile.Load(PickleFixtures.Path("basic.pt")));
        Assert.True(root.IsOrderedDict);
        Assert.Equal(BasicKeys, root.Keys.Cast<string>());
        AssertBasicStateDict(root.Select(e => new KeyValuePair<string, Tensor>((string)e.Key, (Tensor)e.Value!)).ToList());
    }

    internal static void AssertBasicStateDict(IReadOnlyList<KeyValuePair<string, Tensor>> sd)
    {
        Assert.Equal(BasicKeys, sd.Select(e => e.Key));
        var t = sd.ToDictionary(e => e.Key, e => e.Value);

        Assert.Equal(ScalarType.Float32, t["z.fp32"].dtype);
        Assert.Equal([2L, 3L], t["z.fp32"].shape);
        Assert.Equal([-1f, -0.5f, 0f, 0.5f, 1f, 1.5f], Floats(t["z.fp32"]));

        Assert.Equal(ScalarType.Float16, t["a.fp16"].dtype);
        Assert.Equal([0f, 0.25f, 0.5f, 0.75f], Floats(t["a.fp16"]));

        Assert.Equal(ScalarType.BFloat16, t["m.bf16"].dtype);
        Assert.Equal([0f, -1.5f, -3f, -4.5f], Floats(t["m.bf16"]));

        Assert.Equal(ScalarType.Int64, t["b.int64"].dtype);
        Assert.Equal([-3L, 0L, 1L << 40, 7L], t["b.int64"].data<long>().ToArray());

        Assert.Equal(ScalarType.Bool, t["c.bool"].dtype);
        Assert.Equal([true, false, true], t["c.bool"].data<bool>().ToArray());

        Assert.Equal(ScalarType.Float64, t["d.scalar"].dtype);
        Assert.Empty(t["d.scalar"].shape);
        Assert.Equal(2.5, t["d.scalar"].item<double>());

        Assert.Equal(ScalarType.Int32, t["e.int32"].dtype);
        Assert.Equal([1L, -2L, 3L, -4L], Longs(t["e.int32"]));
        Assert.Equal(ScalarType.Byte, t["f.uint8"].dtype);
        Assert.Equal([0L, 255L, 128L], Longs(t["f.uint8"]));
        Assert.Equal(ScalarType.Int8, t["g.int8"].dtype);
        Assert.Equal([-128L, 127L], Longs(t["g.int8"]));
        Assert.Equal(ScalarType.Int16, t["h.int16"].dtype);
        Assert.Equal([-300L, 300L], Longs(t["h.int16"]));

        Assert.Equal([0L, 3L], t["i.empty"].shape);
    }

    [Fact]
    public void Rebuilds_views_of_shared_storages_including_non_contiguous_strides()
    {
        var root = Assert.IsType<PickleDictionary>(TorchPickleFile.Load(PickleFixtures.Path("shared_views.pt")));
        var t = root.ToDictionary(e => (string)e.Key, e => (Tensor)e.Value!);

        Assert.Equal(Enumerable.Range(0, 16).Select(i => (float)i), Floats(t["base"]));
        Assert.Equal([4f, 5f, 6f, 7f], Floats(t["row"]));
        Assert.Equal([2f, 6f, 10f, 14f], Floats(t["column"]));
        Assert.Equal([4L, 4L], t["transposed"].shape);
        Assert.Equal([0f, 4f, 8f, 12f, 1f, 5f, 9f, 13f, 2f, 6f, 10f, 14f, 3f, 7f, 11f, 15f], Floats(t["transposed"]));
        Assert.Equal([5f, 6f, 9f, 10f], Floats(t["block"]));
        Assert.Equal([0f, 1f, 2f, 0f, 1f, 2f], Floats(t["broadcast"]));
        Assert.All(t.Values, v => Assert.True(v.is_contiguous()));

        // As after torch.load, a contiguous view shares its storage with the other tensors over it.
        t["base"].add_(100);
        Assert.Equal([104f, 105f, 106f, 107f], Floats(t["row"]));
    }

    [Theory]
    [InlineData("nested.pt")]
    [InlineData("legacy.pt")]
    [InlineData("protocol4.pt")]
    public void Reads_nested_containers_and_plain_values(string file)
    {
        var root = Assert.IsType<PickleDictionary>(TorchPickleFile.Load(PickleFixtures.Path(file)));
        Assert.False(root.IsOrderedDict);
        Assert.Equal(["state_dict", "epoch", "global_step", "name", "lr", "flags", "shape", "blob", "big", "negative", "nested"], root.Keys.Cast<string>());
        Assert.Equal(3L, root["epoch"]);
        Assert.Equal(1234L, root["global_step"]);
        Assert.Equal("toy ✓", root["name"]);
        Assert.Equal(0.5, root["lr"]);
        Assert.Equal(new object?[] { true, false, null }, Assert.IsType<List<object?>>(root["flags"]));
        Assert.Equal(new PickleTuple([1L, 2L]), root["shape"]);
        Assert.Equal(new byte[] { 0, 1, 255 }, root["blob"]);
        Assert.Equal(BigInteger.Pow(2, 70), root["big"]);
        Assert.Equal(-5L, root["negative"]);

        var sd = Assert.IsType<PickleDictionary>(root["state_dict"]);
        AssertBasicStateDict(sd.Select(e => new KeyValuePair<string, Tensor>((string)e.Key, (Tensor)e.Value!)).ToList());

        var inner = Assert.IsType<List<object?>>(Assert.IsType<PickleDictionary>(root["nested"])["inner"]);
        Assert.Equal([1f, 1f], Floats(Assert.IsType<Tensor>(inner[0])));
        Assert.Equal(7L, Assert.IsType<PickleDictionary>(inner[1])["deep"]);
    }

    [Fact]
    public void Keeps_lightning_callback_metadata_as_inert_placeholders_and_decodes_numpy_scalars()
    {
        var root = Assert.IsType<PickleDictionary>(TorchPickleFile.Load(PickleFixtures.Path("sd_like.ckpt")));
        Assert.Equal(470000L, root["global_step"]);
        var callbacks = Assert.IsType<PickleDictionary>(root["callbacks"]);
        var (key, value) = Assert.Single(callbacks);
        Assert.Equal(new PickleGlobal("pytorch_lightning.callbacks.model_checkpoint", "ModelCheckpoint"), key);
        var state = Assert.IsType<PickleDictionary>(value);
        Assert.Equal(0.125, state["best_model_score"]);
        Assert.Equal(-7L, state["current_score"]);
        Assert.Null(state["monitor"]);
    }

    [Fact]
    public void Reads_the_state_dict_nested_under_state_dict_as_sd_checkpoints_keep_it()
    {
        var sd = TorchCheckpointReader.ReadStateDict(PickleFixtures.Path("sd_like.ckpt"));
        AssertBasicStateDict(sd);
        AssertBasicStateDict(TorchCheckpointReader.ReadStateDict(PickleFixtures.Path("legacy.pt")));
        AssertBasicStateDict(TorchCheckpointReader.ReadStateDict(PickleFixtures.Path("basic.pt")));
    }
}
