using SdTune.Adapters.Formats;
using SdTune.Adapters.Hypernetworks;
using SdTune.Checkpoints.Hypernetworks;
using SdTune.Checkpoints.Inspection;
using SdTune.Checkpoints.Pickle;
using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Hypernetworks;

/// <summary>A1111 hypernetwork files: our writer and reader, A1111's layout and load defaults, legacy names, inspection.</summary>
public sealed class HypernetworkFileTests
{
    private static Hypernetwork Network(HypernetworkSettings settings, params long[] widths)
    {
        manual_seed(11);
        return new Hypernetwork(widths, settings);
    }

    [Fact]
    public void The_written_file_holds_a1111s_keys_in_order_with_tuples_of_ordered_dicts()
    {
        using var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir.Path, "style.pt");
        var settings = new HypernetworkSettings { Activation = "relu", LayerNorm = true, DropoutStructure = HypernetworkSettings.DropoutStructureFor([1, 2, 1], true, true) };
        using var network = Network(settings, 768, 320);
        A1111HypernetworkFormat.Save(path, network, new HypernetworkFileContents { Layers = [], Name = "style", Step = 42, SdCheckpoint = "0123456789", SdCheckpointName = "model" });

        using var scope = NewDisposeScope();
        var root = Assert.IsType<PickleDictionary>(TorchPickleFile.Load(path));
        Assert.False(root.IsOrderedDict);
        Assert.Equal(
            new object[] { 768L, 320L, "step", "name", "layer_structure", "activation_func", "is_layer_norm", "weight_initialization", "sd_checkpoint", "sd_checkpoint_name", "activate_output", "use_dropout", "dropout_structure", "last_layer_dropout", "optional_info" },
            root.Keys.ToArray());
        Assert.Equal(42L, root["step"]);
        Assert.Equal("style", root["name"]);
        Assert.Equal(new object?[] { 1.0, 2.0, 1.0 }, Assert.IsAssignableFrom<IReadOnlyList<object?>>(root["layer_structure"]));
        Assert.Equal("relu", root["activation_func"]);
        Assert.Equal(true, root["is_layer_norm"]);
        Assert.Equal("Normal", root["weight_initialization"]);
        Assert.Equal("0123456789", root["sd_checkpoint"]);
        Assert.Equal("model", root["sd_checkpoint_name"]);
        Assert.Equal(false, root["activate_output"]);
        Assert.Equal(true, root["use_dropout"]);
        Assert.Equal(new object?[] { 0.0, 0.3, 0.0 }, Assert.IsAssignableFrom<IReadOnlyList<object?>>(root["dropout_structure"]));
        Assert.Equal(true, root["last_layer_dropout"]);
        Assert.Null(root["optional_info"]);

        foreach (var width in new long[] { 768, 320 })
        {
            var pair = Assert.IsType<PickleTuple>(root[width]);
            Assert.Equal(2, pair.Count);
            for (var side = 0; side < 2; side++)
            {
                var state = Assert.IsType<PickleDictionary>(pair[side]);
                Assert.True(state.IsOrderedDict);
                var module = side == 0 ? network[width].Key : network[width].Value;
                // Linear, ReLU, LayerNorm, Dropout, Linear, LayerNorm.
                Assert.Equal(["linear.0.weight", "linear.0.bias", "linear.2.weight", "linear.2.bias", "linear.4.weight", "linear.4.bias", "linear.5.weight", "linear.5.bias"], state.Keys.Cast<string>().ToArray());
                foreach (var (name, live) in module.state_dict())
                {
                    var stored = Assert.IsAssignableFrom<Tensor>(state[name]);
                    Assert.Equal(live.shape, stored.shape);
                    Assert.True(live.equal(stored).all().item<bool>(), $"{width}/{side}/{name}");
                }
            }
        }
    }

    [Fact]
    public void Every_key_and_tensor_survives_a_round_trip()
    {
        using var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir.Path, "round.pt");
        var settings = new HypernetworkSettings
        {
            LayerStructure = [1, 1.5, 2, 1],
            Activation = "mish",
            WeightInit = HypernetworkWeightInit.XavierNormal,
            ActivateOutput = true,
            DropoutStructure = HypernetworkSettings.DropoutStructureFor([1, 1.5, 2, 1], true, false),
        };
        using var network = Network(settings, 32, 64);
        A1111HypernetworkFormat.Save(path, network, new HypernetworkFileContents { Layers = [], Name = "round", Step = 7, OptionalInfo = "notes" });

        var file = HypernetworkFile.Load(path);
        Assert.Equal("round", file.Name);
        Assert.Equal(7L, file.Step);
        Assert.Equal([1.0, 1.5, 2, 1], file.LayerStructure);
        Assert.Equal("mish", file.ActivationFunc);
        Assert.Equal("XavierNormal", file.WeightInitialization);
        Assert.False(file.IsLayerNorm);
        Assert.True(file.ActivateOutput);
        Assert.True(file.UseDropout);
        Assert.Equal([0.0, 0.3, 0, 0], file.DropoutStructure);
        Assert.False(file.LastLayerDropout);
        Assert.Null(file.SdCheckpoint);
        Assert.Equal("notes", file.OptionalInfo);
        Assert.Equal([32L, 64L], file.Layers.Select(l => l.Width));

        var (loaded, _) = A1111HypernetworkFormat.Load(path);
        using (loaded)
        {
            Assert.Equal(settings, loaded.Settings with { LayerStructure = settings.LayerStructure, DropoutStructure = settings.DropoutStructure });
            Assert.Equal(settings.LayerStructure, loaded.Settings.LayerStructure);
            Assert.Equal(settings.DropoutStructure, loaded.Settings.DropoutStructure);
            var expected = network.state_dict();
            var actual = loaded.state_dict();
            Assert.Equal(expected.Keys, actual.Keys);
            foreach (var (name, tensor) in expected)
            {
                Assert.True(tensor.equal(actual[name]).all().item<bool>(), name);
            }

            network.eval();
            using var x = randn(1, 4, 32);
            Assert.True(network.Apply(x, x).Key.equal(loaded.Apply(x, x).Key).all().item<bool>());
        }
    }

    [Fact]
    public void Old_files_load_with_a1111s_defaults_and_legacy_names()
    {
        using var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir.Path, "old.pt");
        using var scope = NewDisposeScope();
        var w1 = randn(16, 8);
        var w2 = randn(8, 16);
        PickleDictionary Legacy() => PickleDictionary.Of(
            [new("linear1.weight", w1), new("linear1.bias", zeros(16)), new("linear2.weight", w2), new("linear2.bias", zeros(8))], isOrderedDict: true);
        TorchCheckpointWriter.SaveObject(path, PickleDictionary.Of([new(8L, new List<object?> { Legacy(), Legacy() }), new("step", 100L)]));

        var file = HypernetworkFile.Load(path);
        Assert.Null(file.Name);
        Assert.Equal(100L, file.Step);
        Assert.Equal([1.0, 2, 1], file.LayerStructure);
        Assert.Null(file.ActivationFunc);
        Assert.Equal("Normal", file.WeightInitialization);
        Assert.False(file.IsLayerNorm);
        Assert.True(file.ActivateOutput);
        Assert.False(file.LastLayerDropout);
        Assert.Null(file.DropoutStructure);
        Assert.Equal(["linear.0.weight", "linear.0.bias", "linear.1.weight", "linear.1.bias"], file.Layers[0].Key.Select(kv => kv.Key));

        var (network, _) = A1111HypernetworkFormat.Load(path);
        using (network)
        {
            Assert.Equal("linear", network.Settings.Activation);
            Assert.Equal([0.0, 0, 0], network.Settings.DropoutStructure);
            Assert.True(network[8].Key.state_dict()["linear.0.weight"].equal(w1).all().item<bool>());
            Assert.True(network[8].Value.state_dict()["linear.1.weight"].equal(w2).all().item<bool>());
        }
    }

    [Fact]
    public void Files_that_are_not_hypernetworks_or_do_not_fit_their_structure_are_refused_naming_the_file()
    {
        using var dir = TestPaths.NewTempDir();
        using var scope = NewDisposeScope();
        var plain = Path.Combine(dir.Path, "plain.pt");
        TorchCheckpointWriter.SaveObject(plain, PickleDictionary.Of([new("weight", zeros(2))]));
        var e = Assert.Throws<CheckpointFormatException>(() => HypernetworkFile.Load(plain));
        Assert.Contains("plain.pt", e.Message, StringComparison.Ordinal);

        // relu moves the second Linear to slot 2: a file with linear.1.* does not fit.
        var mismatched = Path.Combine(dir.Path, "mismatched.pt");
        PickleDictionary State() => PickleDictionary.Of(
            [new("linear.0.weight", zeros(16, 8)), new("linear.0.bias", zeros(16)), new("linear.1.weight", zeros(8, 16)), new("linear.1.bias", zeros(8))], isOrderedDict: true);
        TorchCheckpointWriter.SaveObject(mismatched, PickleDictionary.Of([new(8L, PickleTuple.Of(State(), State())), new("activation_func", "relu")]));
        var m = Assert.Throws<CheckpointFormatException>(() => A1111HypernetworkFormat.Load(mismatched));
        Assert.Contains("mismatched.pt", m.Message, StringComparison.Ordinal);
        Assert.Contains("linear.2.weight", m.Message, StringComparison.Ordinal);

        var badActivation = Path.Combine(dir.Path, "bad.pt");
        TorchCheckpointWriter.SaveObject(badActivation, PickleDictionary.Of([new(8L, PickleTuple.Of(State(), State())), new("activation_func", "wiggle")]));
        var a = Assert.Throws<CheckpointFormatException>(() => A1111HypernetworkFormat.Load(badActivation));
        Assert.Contains("wiggle", a.Message, StringComparison.Ordinal);
        Assert.Contains("leakyrelu", a.Message, StringComparison.Ordinal);

        var badType = Path.Combine(dir.Path, "badtype.pt");
        TorchCheckpointWriter.SaveObject(badType, PickleDictionary.Of([new(8L, PickleTuple.Of(State(), State())), new("is_layer_norm", "yes")]));
        var t = Assert.Throws<CheckpointFormatException>(() => HypernetworkFile.Load(badType));
        Assert.Contains("is_layer_norm", t.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inspect_recognises_the_written_file()
    {
        using var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir.Path, "seen.pt");
        using var network = Network(new HypernetworkSettings(), 768, 320, 640, 1280);
        A1111HypernetworkFormat.Save(path, network, new HypernetworkFileContents { Layers = [], Name = "seen", Step = 1 });
        var report = ModelInspector.Inspect(path);
        Assert.Equal(ModelFileKind.Hypernetwork, report.Kind);
        Assert.Equal(ModelArchitecture.SD1, report.Architecture);
        Assert.Equal(4 * 2 * 4, report.TensorCount);
        Assert.Equal(network.parameters().Sum(p => p.numel()), report.ParameterCount);
        Assert.Contains("768, 320, 640, 1280", report.Flavour, StringComparison.Ordinal);
    }
}
