using SdTune.Training.Optimization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Optimization;

public class OptimizerFactoryTests
{
    [Theory]
    [InlineData("AdamW", typeof(AdamWOptimizer))]
    [InlineData("adamw", typeof(AdamWOptimizer))]
    [InlineData("PRODIGY", typeof(ProdigyOptimizer))]
    [InlineData("AdaFactor", typeof(AdafactorOptimizer))]
    [InlineData(" lion ", typeof(LionOptimizer))]
    public void Names_are_case_insensitive(string name, Type expected)
    {
        using var p = new Parameter(zeros(2));
        using var optimizer = OptimizerFactory.Create(name, [new ParameterGroup("unet", [p], 1e-3)]);
        Assert.IsType(expected, optimizer);
        Assert.Contains(optimizer.Name, OptimizerFactory.Names);
    }

    [Theory]
    [InlineData("AdamW")]
    [InlineData("Lion")]
    [InlineData("Adafactor")]
    public void A_group_may_have_its_own_weight_decay(string name)
    {
        // With zero gradients, only decoupled weight decay moves a weight: the group without decay stays put.
        using var decayed = new Parameter(ones(4));
        using var kept = new Parameter(ones(4));
        using var other = new Parameter(ones(4));
        var options = OptimizerArgumentsFor(name);
        using var optimizer = OptimizerFactory.Create(name,
        [
            new ParameterGroup("a", [decayed], 0.1) { WeightDecay = 0.5 },
            new ParameterGroup("b", [kept], 0.1) { WeightDecay = 0 },
            new ParameterGroup("c", [other], 0.1),
        ], options);
        foreach (var p in new[] { decayed, kept, other })
        {
            p.grad = zeros(4);
        }

        optimizer.Step();
        Assert.True(decayed.max().item<float>() < 0.999f, $"{name}: the group's weight decay was not applied");
        Assert.True(kept.detach().eq(1).all().item<bool>(), $"{name}: a group with weight decay 0 moved");
    }

    private static SdTune.Training.Optimization.OptimizerOptions? OptimizerArgumentsFor(string name) => name switch
    {
        "Adafactor" => new AdafactorOptions { RelativeStep = false, ScaleParameter = false, WarmupInit = false },
        _ => null,
    };

    [Fact]
    public void Unknown_name_lists_the_valid_ones()
    {
        using var p = new Parameter(zeros(2));
        var error = Assert.Throws<ArgumentException>(() => OptimizerFactory.Create("AdamW8bit", [new ParameterGroup("unet", [p], 1e-3)]));
        Assert.Contains("'AdamW8bit'", error.Message);
        Assert.Contains("AdamW, Prodigy, Adafactor, Lion", error.Message);
    }

    [Fact]
    public void Options_of_another_optimizer_are_rejected()
    {
        using var p = new Parameter(zeros(2));
        var error = Assert.Throws<ArgumentException>(() => OptimizerFactory.Create("Lion", [new ParameterGroup("unet", [p], 1e-3)], new AdamWOptions()));
        Assert.Contains("LionOptions", error.Message);
        Assert.Contains("AdamWOptions", error.Message);
    }

    [Fact]
    public void Out_of_range_options_name_the_field()
    {
        using var p = new Parameter(zeros(2));
        var groups = new[] { new ParameterGroup("unet", [p], 1e-3) };
        Assert.Contains("beta2", Assert.Throws<ArgumentException>(() => OptimizerFactory.Create("AdamW", groups, new AdamWOptions { Beta2 = 1.0 })).Message);
        Assert.Contains("d0", Assert.Throws<ArgumentException>(() => OptimizerFactory.Create("Prodigy", groups, new ProdigyOptions { D0 = 0 })).Message);
        Assert.Contains("warmup_init", Assert.Throws<ArgumentException>(() => OptimizerFactory.Create("Adafactor", groups, new AdafactorOptions { RelativeStep = false, WarmupInit = true })).Message);
        Assert.Contains("learning rate", Assert.Throws<ArgumentException>(() => new ParameterGroup("te", [p], -1)).Message);
    }

    [Fact]
    public void Prodigy_requires_one_shared_learning_rate_or_zero()
    {
        using var a = new Parameter(zeros(2));
        using var b = new Parameter(zeros(2));
        var error = Assert.Throws<ArgumentException>(() => new ProdigyOptimizer([new ParameterGroup("unet", [a], 1.0), new ParameterGroup("text_encoder", [b], 0.5)]));
        Assert.Contains("'text_encoder' = 0.5", error.Message);
        using var frozenTe = new ProdigyOptimizer([new ParameterGroup("unet", [a], 1.0), new ParameterGroup("text_encoder", [b], 0)]);
        Assert.Equal(1e-6, frozenTe.D);
    }

    [Fact]
    public void A_parameter_in_two_groups_is_rejected()
    {
        using var a = new Parameter(zeros(2));
        var error = Assert.Throws<ArgumentException>(() => new AdamWOptimizer([new ParameterGroup("unet", [a], 1.0), new ParameterGroup("text_encoder", [a], 0.5)]));
        Assert.Contains("more than once", error.Message);
    }

    [Fact]
    public void Adafactor_relative_step_size_follows_the_step_count()
    {
        using var p = new Parameter(zeros(2));
        using var relative = new AdafactorOptimizer([new ParameterGroup("unet", [p], 0)], new AdafactorOptions { ScaleParameter = false });
        Assert.Equal(1e-2, relative.StepSize(0, 1, 0));
        Assert.Equal(1.0 / Math.Sqrt(40000), relative.StepSize(0, 40000, 0), 15);
        using var warm = new AdafactorOptimizer([new ParameterGroup("unet", [p], 0)], new AdafactorOptions { WarmupInit = true });
        // warmup_init: min(1e-6 t, 1/sqrt(t)) times max(eps2, rms(p)).
        Assert.Equal(1e-6 * 10 * 0.5, warm.StepSize(0, 10, 0.5), 1e-20);
        Assert.Equal(1e-6 * 10 * 1e-3, warm.StepSize(0, 10, 0), 1e-22);
    }
}
