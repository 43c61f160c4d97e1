using SdTune.Training.Optimization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Optimization;

/// <summary>EMA against values worked out by hand from diffusers' EMAModel formulas.</summary>
public class EmaWeightsTests
{
    [Fact]
    public void First_step_copies_then_decay_is_one_plus_step_over_ten_plus_step()
    {
        using var p = new Parameter(tensor(new double[] { 1, 2 }));
        using var ema = new EmaWeights([p]);
        Set(p, 3, 4);
        ema.Step([p]); // step 1: decay 0
        Assert.Equal(0.0, ema.CurrentDecay);
        AssertValues(ema.ShadowParameters[0], 3, 4);

        Set(p, 5, 6);
        ema.Step([p]); // step 2: decay 2/11, shadow = s - 9/11 (s - p)
        Assert.Equal(2.0 / 11, ema.CurrentDecay, 15);
        AssertValues(ema.ShadowParameters[0], 3 + (18.0 / 11), 4 + (18.0 / 11));

        Set(p, 0, 0);
        ema.Step([p]); // step 3: decay 3/12
        AssertValues(ema.ShadowParameters[0], 0.25 * (3 + (18.0 / 11)), 0.25 * (4 + (18.0 / 11)));
        Assert.Equal(3, ema.OptimizationStep);
    }

    [Fact]
    public void Decay_is_capped_floored_and_delayed()
    {
        using var p = new Parameter(zeros(1));
        using var capped = new EmaWeights([p], new EmaOptions { Decay = 0.5 });
        Assert.Equal(0.25, capped.DecayAt(3), 15);
        Assert.Equal(0.5, capped.DecayAt(100));

        using var floored = new EmaWeights([p], new EmaOptions { MinDecay = 0.3 });
        Assert.Equal(0.0, floored.DecayAt(1)); // nothing to average yet
        Assert.Equal(0.3, floored.DecayAt(2)); // 2/11 < 0.3

        using var delayed = new EmaWeights([p], new EmaOptions { UpdateAfterStep = 5 });
        Assert.Equal(0.0, delayed.DecayAt(6));
        Assert.Equal(2.0 / 11, delayed.DecayAt(7), 15);
    }

    [Fact]
    public void Warmup_decay_follows_one_minus_one_plus_step_over_gamma_to_the_minus_power()
    {
        using var p = new Parameter(zeros(1));
        using var ema = new EmaWeights([p], new EmaOptions { UseEmaWarmup = true });
        // step 1: 1 - 2^(-2/3)
        Assert.Equal(0.3700394750525634, ema.DecayAt(2), 14);
        using var shorter = new EmaWeights([p], new EmaOptions { UseEmaWarmup = true, Power = 0.75, InvGamma = 2, Decay = 1 });
        // step 9: 1 - (1 + 9/2)^(-3/4) = 1 - 5.5^-0.75
        Assert.Equal(0.7215623351264739, shorter.DecayAt(10), 14);
    }

    [Fact]
    public void Store_copy_to_and_restore_around_sampling()
    {
        using var p = new Parameter(tensor(new double[] { 1, 2 }));
        using var ema = new EmaWeights([p]);
        Set(p, 3, 4);
        ema.Step([p]);
        Set(p, 5, 6);
        ema.Step([p]);

        ema.Store([p]);
        ema.CopyTo([p]);
        AssertValues(p, 3 + (18.0 / 11), 4 + (18.0 / 11));
        ema.Restore([p]);
        AssertValues(p, 5, 6);
        Assert.Throws<InvalidOperationException>(() => ema.Restore([p]));
    }

    [Fact]
    public void Parameters_that_need_no_gradient_are_copied()
    {
        using var p = new Parameter(tensor(new double[] { 1 }), requires_grad: false);
        using var ema = new EmaWeights([p]);
        ema.Step([p]);
        Set(p, 7);
        ema.Step([p]);
        AssertValues(ema.ShadowParameters[0], 7);
    }

    [Fact]
    public void State_round_trip_continues_identically()
    {
        using var p = new Parameter(tensor(new double[] { 1, 2 }));
        using var ema = new EmaWeights([p]);
        for (var i = 0; i < 4; i++)
        {
            Set(p, i, -i);
            ema.Step([p]);
        }

        var state = ema.GetState().ToDictionary(e => e.Key, e => e.Value);
        using var resumed = new EmaWeights([p]);
        resumed.LoadState(state);
        Assert.Equal(4, resumed.OptimizationStep);
        Set(p, 10, 20);
        ema.Step([p]);
        resumed.Step([p]);
        Assert.True(ema.ShadowParameters[0].eq(resumed.ShadowParameters[0]).all().item<bool>());
        foreach (var t in state.Values)
        {
            t.Dispose();
        }

        var error = Assert.Throws<InvalidDataException>(() => resumed.LoadState(new Dictionary<string, Tensor> { ["optimization_step"] = tensor(1L) }));
        Assert.Contains("shadow.0", error.Message);
    }

    [Fact]
    public void Mismatched_parameters_are_rejected()
    {
        using var p = new Parameter(zeros(2));
        using var q = new Parameter(zeros(3));
        using var ema = new EmaWeights([p]);
        Assert.Contains("shape [3]", Assert.Throws<ArgumentException>(() => ema.Step([q])).Message);
        Assert.Contains("1 tensors", Assert.Throws<ArgumentException>(() => ema.Step([p, q])).Message);
    }

    private static void Set(Parameter p, params double[] values)
    {
        using var noGrad = no_grad();
        using var source = tensor(values);
        p.copy_(source);
    }

    private static void AssertValues(Tensor t, params double[] expected)
    {
        var actual = t.data<double>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 12);
        }
    }
}
