using SdTune.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Optimization;

/// <summary>Exact resume through a saved state file, state validation, and no tensor leaks per step.</summary>
public class OptimizerResumeTests
{
    public static TheoryData<string> Cases => [.. OptimizerProblem.Cases];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Five_steps_saved_and_loaded_then_five_more_equal_ten_uninterrupted_steps_bit_for_bit(string name)
    {
        using var file = OptimizerProblem.OpenFixture();
        using var x = file.Read("input.x");
        using var y = file.Read("input.y");
        using var temp = TestPaths.NewTempDir();
        // Warm-up makes step 0 run at rate 0 (Prodigy's "no progress" path) and changes the rate every step.
        var schedule = LearningRateSchedule.Create("linear", OptimizerProblem.Steps, WarmupLength.FromSteps(2));

        var (w1, b1) = OptimizerProblem.StartParameters(file, ScalarType.Float32);
        using var straight = Build(name, w1, b1);
        for (var k = 0; k < 10; k++)
        {
            schedule.Apply(straight, k);
            OptimizerProblem.Step(straight, x, y, w1, b1, k);
        }

        var (w2, b2) = OptimizerProblem.StartParameters(file, ScalarType.Float32);
        using (var first = Build(name, w2, b2))
        {
            for (var k = 0; k < 5; k++)
            {
                schedule.Apply(first, k);
                OptimizerProblem.Step(first, x, y, w2, b2, k);
            }

            using var saved = first.GetState();
            saved.Save(temp.File("optimizer.safetensors"));
        }

        // A fresh process: new parameters holding the saved weights, a new optimizer, the state from disk.
        using var w3 = new Parameter(w2.detach().clone());
        using var b3 = new Parameter(b2.detach().clone());
        using var resumed = Build(name, w3, b3);
        using (var loaded = OptimizerSnapshot.Load(temp.File("optimizer.safetensors")))
        {
            Assert.Equal(resumed.Name, loaded.OptimizerName);
            resumed.LoadState(loaded);
        }

        for (var k = 5; k < 10; k++)
        {
            schedule.Apply(resumed, k);
            OptimizerProblem.Step(resumed, x, y, w3, b3, k);
        }

        Assert.True(BitEqual(w1, w3), $"{name}: W after resume differs from the uninterrupted run.");
        Assert.True(BitEqual(b1, b3), $"{name}: b after resume differs from the uninterrupted run.");
        using var s1 = straight.GetState();
        using var s3 = resumed.GetState();
        Assert.Equal(s1.Tensors.Keys, s3.Tensors.Keys);
        foreach (var (key, value) in s1.Tensors)
        {
            Assert.True(BitEqual(value, s3.Tensors[key]), $"{name}: state entry '{key}' differs after resume.");
        }

        if (straight is ProdigyOptimizer p1 && resumed is ProdigyOptimizer p3)
        {
            Assert.Equal(p1.D, p3.D);
            Assert.Equal(p1.DNumerator, p3.DNumerator);
            Assert.Equal(p1.StepCount, p3.StepCount);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Steps_leave_no_live_tensors_behind(string name)
    {
        using var file = OptimizerProblem.OpenFixture();
        using var x = file.Read("input.x");
        using var y = file.Read("input.y");
        var (w, b) = OptimizerProblem.StartParameters(file, ScalarType.Float32);
        using var optimizer = Build(name, w, b);
        OptimizerProblem.Step(optimizer, x, y, w, b, 0);
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (var i = 0; i < 20; i++)
        {
            OptimizerProblem.Step(optimizer, x, y, w, b, i % OptimizerProblem.Steps);
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Loading_a_state_from_another_optimizer_or_layout_fails_with_the_entry_named()
    {
        using var w = new Parameter(randn(4, 3));
        using var b = new Parameter(randn(3));
        using var adamW = new AdamWOptimizer([new ParameterGroup("unet", [w, b], 1e-3)]);
        Train(adamW, w, b);
        using var state = adamW.GetState();

        using var lion = new LionOptimizer([new ParameterGroup("unet", [w, b], 1e-4)]);
        var wrongKind = Assert.Throws<InvalidDataException>(() => lion.LoadState(state));
        Assert.Contains("AdamW", wrongKind.Message);

        using var split = new AdamWOptimizer([new ParameterGroup("unet", [w], 1e-3), new ParameterGroup("te", [b], 1e-3)]);
        var wrongGroups = Assert.Throws<InvalidDataException>(() => split.LoadState(state));
        Assert.Contains("group 0 had 2 parameters", wrongGroups.Message);

        using var other = new Parameter(randn(5, 3));
        using var otherB = new Parameter(randn(3));
        using var reshaped = new AdamWOptimizer([new ParameterGroup("unet", [other, otherB], 1e-3)]);
        var wrongShape = Assert.Throws<InvalidDataException>(() => reshaped.LoadState(state));
        Assert.Contains("param.0.0.exp_avg", wrongShape.Message);
        Assert.Contains("[4, 3]", wrongShape.Message);

        // A failed load leaves the optimizer as it was (no state yet, so the next step starts fresh).
        using var empty = reshaped.GetState();
        Assert.DoesNotContain(empty.Tensors.Keys, k => k.StartsWith("param.", StringComparison.Ordinal));
    }

    [Fact]
    public void Parameters_without_gradients_are_skipped_and_get_no_state()
    {
        using var w = new Parameter(randn(4, 3));
        using var frozen = new Parameter(randn(3));
        using var before = frozen.detach().clone();
        using var optimizer = new AdamWOptimizer([new ParameterGroup("unet", [w, frozen], 1e-2)]);
        using (var scope = NewDisposeScope())
        {
            w.square().sum().backward();
        }

        optimizer.Step();
        Assert.True(BitEqual(before, frozen));
        using var state = optimizer.GetState();
        Assert.Contains("param.0.0.exp_avg", state.Tensors.Keys);
        Assert.DoesNotContain("param.0.1.exp_avg", state.Tensors.Keys);
    }

    [Fact]
    public void Groups_train_with_their_own_learning_rates()
    {
        // Lion moves every element by exactly lr per step (sign update, no decay), which exposes each group's rate.
        using var unet = new Parameter(zeros(3));
        using var te = new Parameter(zeros(3));
        using var optimizer = new LionOptimizer([new ParameterGroup("unet", [unet], 1e-3), new ParameterGroup("text_encoder", [te], 1e-4)]);
        using (var scope = NewDisposeScope())
        {
            (unet.sum() + te.sum()).backward();
        }

        optimizer.Step();
        Assert.All(unet.data<float>().ToArray(), v => Assert.Equal(-1e-3f, v));
        Assert.All(te.data<float>().ToArray(), v => Assert.Equal(-1e-4f, v));
    }

    private static TrainingOptimizer Build(string name, Parameter w, Parameter b)
    {
        var lr = OptimizerProblem.LearningRate(name);
        // Two groups as in UNet + text encoder training; Prodigy needs one shared rate.
        var teRate = name.StartsWith("prodigy", StringComparison.Ordinal) ? lr : lr / 2;
        return OptimizerProblem.Create(name, [new ParameterGroup("unet", [w], lr), new ParameterGroup("text_encoder", [b], teRate)]);
    }

    private static void Train(IStatefulOptimizer optimizer, Parameter w, Parameter b)
    {
        optimizer.ZeroGrad();
        using (var scope = NewDisposeScope())
        {
            (w.sum() + b.square().sum()).backward();
        }

        optimizer.Step();
    }

    private static bool BitEqual(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.view(-1).eq(b.view(-1)).all().item<bool>();
    }
}
