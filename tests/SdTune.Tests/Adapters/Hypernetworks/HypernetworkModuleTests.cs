using SdTune.Adapters.Hypernetworks;
using static TorchSharp.torch;

namespace SdTune.Tests.Adapters.Hypernetworks;

/// <summary>A1111's hypernetwork module: its Sequential slots (and so its state-dict names), shapes, forward and initialisation.</summary>
public sealed class HypernetworkModuleTests
{
    private static HypernetworkSettings Settings(string activation = "linear", bool layerNorm = false, bool dropout = false, bool lastLayerDropout = false, bool activateOutput = false, double[]? structure = null)
    {
        IReadOnlyList<double> s = structure ?? [1, 2, 1];
        return new HypernetworkSettings
        {
            LayerStructure = s,
            Activation = activation,
            LayerNorm = layerNorm,
            ActivateOutput = activateOutput,
            DropoutStructure = HypernetworkSettings.DropoutStructureFor(s, dropout, lastLayerDropout),
        };
    }

    private static string[] Names(HypernetworkModule module) => [.. module.state_dict().Keys];

    [Fact]
    public void State_dict_names_count_every_sequential_slot()
    {
        using var linear = new HypernetworkModule(8, Settings());
        Assert.Equal(["linear.0.weight", "linear.0.bias", "linear.1.weight", "linear.1.bias"], Names(linear));

        using var relu = new HypernetworkModule(8, Settings("relu"));
        Assert.Equal(["linear.0.weight", "linear.0.bias", "linear.2.weight", "linear.2.bias"], Names(relu));

        // Linear, ReLU, LayerNorm, Linear, LayerNorm (the last Linear is not activated).
        using var norm = new HypernetworkModule(8, Settings("relu", layerNorm: true));
        Assert.Equal(["linear.0.weight", "linear.0.bias", "linear.2.weight", "linear.2.bias", "linear.3.weight", "linear.3.bias", "linear.4.weight", "linear.4.bias"], Names(norm));

        // Linear, ReLU, Dropout(0.3), Linear.
        using var dropout = new HypernetworkModule(8, Settings("relu", dropout: true, lastLayerDropout: true));
        Assert.Equal(["linear.0.weight", "linear.0.bias", "linear.3.weight", "linear.3.bias"], Names(dropout));

        // Linear, ReLU, LayerNorm, Dropout, Linear, LayerNorm; linear activation: Linear, LayerNorm, Dropout, Linear, LayerNorm.
        using var both = new HypernetworkModule(8, Settings("relu", layerNorm: true, dropout: true, lastLayerDropout: true));
        Assert.Equal(["linear.0.weight", "linear.0.bias", "linear.2.weight", "linear.2.bias", "linear.4.weight", "linear.4.bias", "linear.5.weight", "linear.5.bias"], Names(both));
        using var linearBoth = new HypernetworkModule(8, Settings("linear", layerNorm: true, dropout: true, lastLayerDropout: true));
        Assert.Equal(["linear.0.weight", "linear.0.bias", "linear.1.weight", "linear.1.bias", "linear.3.weight", "linear.3.bias", "linear.4.weight", "linear.4.bias"], Names(linearBoth));

        // activate_output adds the activation after the last Linear: nothing with a parameter, so the names stay.
        using var activated = new HypernetworkModule(8, Settings("relu", activateOutput: true, layerNorm: true));
        Assert.Equal(["linear.0.weight", "linear.0.bias", "linear.2.weight", "linear.2.bias", "linear.3.weight", "linear.3.bias", "linear.5.weight", "linear.5.bias"], Names(activated));
    }

    [Fact]
    public void Layer_widths_are_the_context_width_times_the_structure_truncated()
    {
        using var module = new HypernetworkModule(10, Settings(structure: [1, 1.55, 2, 1]));
        var shapes = module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        Assert.Equal([15L, 10], shapes["linear.0.weight"]);
        Assert.Equal([20L, 15], shapes["linear.1.weight"]);
        Assert.Equal([10L, 20], shapes["linear.2.weight"]);
        Assert.Equal([10L], shapes["linear.2.bias"]);
    }

    [Fact]
    public void Dropout_structure_follows_a1111()
    {
        Assert.Equal([0.0, 0, 0], HypernetworkSettings.DropoutStructureFor([1, 2, 1], false, true));
        Assert.Equal([0.0, 0, 0], HypernetworkSettings.DropoutStructureFor([1, 2, 1], true, false));
        Assert.Equal([0.0, 0.3, 0], HypernetworkSettings.DropoutStructureFor([1, 2, 1], true, true));
        Assert.Equal([0.0, 0.3, 0.3, 0], HypernetworkSettings.DropoutStructureFor([1, 2, 2, 1], true, true));
        Assert.Equal([0.0, 0.3, 0.3, 0, 0], HypernetworkSettings.DropoutStructureFor([1, 2, 4, 2, 1], true, false));
    }

    [Fact]
    public void Forward_is_the_input_plus_the_mlp_times_the_strength_in_evaluation_only()
    {
        // dim 2, structure 1, 2, 1, relu: y = x + m * (W2 relu(W1 x + b1) + b2), computed by hand below.
        using var module = new HypernetworkModule(2, Settings("relu"));
        double[,] w1 = { { 0.5, -1.0 }, { 2.0, 0.25 }, { -0.75, 1.5 }, { 1.0, 1.0 } };
        double[] b1 = [0.1, -0.2, 0.3, -2.0];
        double[,] w2 = { { 1.0, -0.5, 0.25, 3.0 }, { -1.0, 2.0, 0.5, -4.0 } };
        double[] b2 = [0.05, -0.15];
        var state = module.state_dict();
        using (no_grad())
        {
            state["linear.0.weight"].copy_(tensor(w1, ScalarType.Float32));
            state["linear.0.bias"].copy_(tensor(b1, ScalarType.Float32));
            state["linear.2.weight"].copy_(tensor(w2, ScalarType.Float32));
            state["linear.2.bias"].copy_(tensor(b2, ScalarType.Float32));
        }

        double[][] inputs = [[1.0, 2.0], [-0.5, 0.75], [3.0, -1.0]];
        double[] Expected(double[] x, double m)
        {
            var h = new double[4];
            for (var i = 0; i < 4; i++)
            {
                h[i] = Math.Max(0, (w1[i, 0] * x[0]) + (w1[i, 1] * x[1]) + b1[i]);
            }

            var y = new double[2];
            for (var o = 0; o < 2; o++)
            {
                var sum = b2[o];
                for (var i = 0; i < 4; i++)
                {
                    sum += w2[o, i] * h[i];
                }

                y[o] = x[o] + (m * sum);
            }

            return y;
        }

        using var x = tensor(inputs.SelectMany(r => r).ToArray(), [1, 3, 2], ScalarType.Float32);
        module.eval();
        module.Multiplier = 0.4;
        var eval = module.forward(x).data<float>().ToArray();
        module.train();
        var train = module.forward(x).data<float>().ToArray();
        for (var r = 0; r < 3; r++)
        {
            var e = Expected(inputs[r], 0.4);
            var t = Expected(inputs[r], 1.0);
            for (var c = 0; c < 2; c++)
            {
                Assert.Equal(e[c], eval[(r * 2) + c], 5);
                Assert.Equal(t[c], train[(r * 2) + c], 5);
            }
        }

        // The hand computation is not the identity: the MLP adds something.
        Assert.NotEqual(inputs[0][0], eval[0], 3);
    }

    [Fact]
    public void Half_precision_input_is_computed_in_the_weights_type_and_returned_in_its_own()
    {
        using var module = new HypernetworkModule(4, Settings("gelu"));
        module.eval();
        using var x = randn(2, 3, 4);
        var half = module.forward(x.to(ScalarType.BFloat16));
        Assert.Equal(ScalarType.BFloat16, half.dtype);
        Assert.True(half.to(ScalarType.Float32).allclose(module.forward(x), rtol: 0.05, atol: 0.05));
    }

    [Fact]
    public void Normal_initialisation_draws_weights_with_std_0_01_and_zero_biases()
    {
        manual_seed(5);
        using var module = new HypernetworkModule(256, Settings("relu", layerNorm: true));
        foreach (var (name, p) in module.state_dict())
        {
            if (name.EndsWith("bias", StringComparison.Ordinal))
            {
                Assert.Equal(0.0, p.abs().max().item<float>());
            }
            else
            {
                var std = p.std().item<float>();
                Assert.InRange(std, 0.009, 0.011);
                Assert.InRange(p.mean().item<float>(), -0.002, 0.002);
            }
        }
    }

    [Theory]
    [InlineData(HypernetworkWeightInit.XavierUniform, "relu")]
    [InlineData(HypernetworkWeightInit.XavierNormal, "relu")]
    [InlineData(HypernetworkWeightInit.KaimingUniform, "relu")]
    [InlineData(HypernetworkWeightInit.KaimingNormal, "leakyrelu")]
    public void Other_initialisations_scale_with_the_fan(HypernetworkWeightInit init, string activation)
    {
        manual_seed(6);
        using var module = new HypernetworkModule(256, Settings(activation) with { WeightInit = init });
        var w = module.state_dict()["linear.0.weight"]; // [512, 256]
        var std = w.std().item<float>();
        var expected = init switch
        {
            HypernetworkWeightInit.XavierUniform or HypernetworkWeightInit.XavierNormal => Math.Sqrt(2.0 / (256 + 512)),
            _ when activation == "leakyrelu" => Math.Sqrt(2.0 / (1 + (0.01 * 0.01))) / Math.Sqrt(256),
            _ => Math.Sqrt(2.0 / 256),
        };
        Assert.InRange(std, expected * 0.95, expected * 1.05);
        Assert.Equal(0.0, module.state_dict()["linear.0.bias"].abs().max().item<float>());
    }

    [Fact]
    public void Unknown_names_and_bad_structures_are_refused_with_the_valid_choices()
    {
        var activation = Assert.Throws<ArgumentException>(() => new HypernetworkModule(8, Settings("relux")));
        foreach (var name in new[] { "linear", "relu", "leakyrelu", "elu", "swish", "tanh", "sigmoid", "gelu", "mish", "silu", "softplus" })
        {
            Assert.Contains(name, activation.Message, StringComparison.Ordinal);
        }

        Assert.Contains("relux", activation.Message, StringComparison.Ordinal);
        var init = Assert.Throws<ArgumentException>(() => HypernetworkWeightInits.Parse("Gaussian"));
        Assert.Contains("Normal, XavierUniform, XavierNormal, KaimingUniform, KaimingNormal", init.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => HypernetworkWeightInits.Parse("normal"));
        var structure = Assert.Throws<ArgumentException>(() => new HypernetworkModule(8, Settings(structure: [2, 1])));
        Assert.Contains("start and end with 1", structure.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new HypernetworkModule(8, Settings(structure: [1])));
        Assert.Throws<ArgumentException>(() => HypernetworkSettings.ParseLayerStructure("1, two, 1"));
        Assert.Equal([1.0, 2.5, 1], HypernetworkSettings.ParseLayerStructure("1, 2.5,1"));
    }

    [Fact]
    public void Swish_is_hardswish_as_in_a1111()
    {
        using var module = HypernetworkActivations.Create("swish")!;
        using var x = linspace(-4, 4, 17);
        Assert.True(module.forward(x).allclose(nn.functional.hardswish(x)));
        Assert.Null(HypernetworkActivations.Create("linear"));
        Assert.Null(HypernetworkActivations.Create(null));
    }
}
