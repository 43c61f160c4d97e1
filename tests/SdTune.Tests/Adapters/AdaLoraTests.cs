using SdTune.Adapters;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Adapters;

/// <summary>AdaLoRA's maths: the budget schedule, the triplet module, its orthogonality penalty and its export as a LoRA module.</summary>
public sealed class AdaLoraTests
{
    [Fact]
    public void The_budget_falls_on_the_cubic_schedule_between_warm_up_and_the_final_phase()
    {
        // 10 layers, r 12 -> 8: b0 = 120, bT = 80; T = 100, tinit 10, tfinal 20: the fall spans steps 10..79.
        var schedule = new AdaLoraSchedule(120, 80, 10, 20, 5, 100);
        Assert.Null(schedule.Problem());
        Assert.Equal(120, schedule.Budget(0));
        Assert.Equal(120, schedule.Budget(9));
        Assert.Equal(120, schedule.Budget(10));
        // t = 45: progress 35/70 = 0.5, 80 + 40 * 0.125 = 85.
        Assert.Equal(85, schedule.Budget(45));
        // t = 24: progress 14/70 = 0.2, 80 + 40 * 0.512 = 100.48 -> 100 (rounded down).
        Assert.Equal(100, schedule.Budget(24));
        Assert.Equal(80, schedule.Budget(80));
        Assert.Equal(80, schedule.Budget(99));
        Assert.Equal(80, schedule.FinalStep);

        Assert.Equal(AdaLoraAction.Score, schedule.ActionAfter(9));
        Assert.Equal(AdaLoraAction.Allocate, schedule.ActionAfter(10));
        Assert.Equal(AdaLoraAction.Score, schedule.ActionAfter(11));
        Assert.Equal(AdaLoraAction.Allocate, schedule.ActionAfter(15));
        Assert.Equal(AdaLoraAction.Allocate, schedule.ActionAfter(75));
        Assert.Equal(AdaLoraAction.Score, schedule.ActionAfter(79));
        Assert.Equal(AdaLoraAction.Fix, schedule.ActionAfter(80));
        Assert.Equal(AdaLoraAction.ApplyFixed, schedule.ActionAfter(81));
    }

    [Fact]
    public void Without_a_final_phase_the_last_step_fixes_the_target_and_impossible_settings_name_their_key()
    {
        var schedule = new AdaLoraSchedule(12, 8, 0, 0, 1, 10);
        Assert.Equal(9, schedule.FinalStep);
        Assert.Equal(AdaLoraAction.Fix, schedule.ActionAfter(9));
        Assert.Equal(8, schedule.Budget(9));

        Assert.Equal("target_r", new AdaLoraSchedule(8, 12, 0, 0, 1, 10).Problem()!.Value.Key);
        Assert.Equal("tinit", new AdaLoraSchedule(12, 8, 6, 4, 1, 10).Problem()!.Value.Key);
        Assert.Contains("10 steps", new AdaLoraSchedule(12, 8, 6, 4, 1, 10).Problem()!.Value.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fresh_module_changes_nothing_and_its_penalty_is_pefts()
    {
        using var layer = nn.Linear(6, 5);
        var target = AdaptedLayer.TryCreate(layer)!;
        using var module = new AdaLoraModule(target, 4, 4);
        using var x = randn(3, 6);
        using (no_grad())
        {
            Assert.Equal(0f, module.forward(x).abs().max().item<float>());
        }

        using var p = module.P.detach();
        using var q = module.Q.detach();
        // PEFT: the Frobenius norms of P^T P - I and Q Q^T - I, not squared.
        var expected = Math.Sqrt((p.t().matmul(p) - eye(4)).pow(2).sum().item<float>()) + Math.Sqrt((q.matmul(q.t()) - eye(4)).pow(2).sum().item<float>());
        Assert.Equal(expected, module.OrthogonalityPenalty().item<float>(), 3);
        Assert.True(module.OrthogonalityPenalty().requires_grad);
    }

    [Fact]
    public void The_exported_lora_module_has_the_kept_rank_and_the_same_output()
    {
        manual_seed(3);
        using var layer = nn.Linear(6, 5);
        var target = AdaptedLayer.TryCreate(layer)!;
        using var module = new AdaLoraModule(target, 4, 3);
        using (no_grad())
        {
            module.Lambda.copy_(tensor(new[] { 0.5f, -1.5f, 2f, 0.25f }).reshape(4, 1));
        }

        using var keep = tensor(new[] { 1f, 0f, 1f, 0f });
        module.Mask(keep);
        using var lora = module.ToLora(keep)!;
        Assert.Equal(2, lora.Rank);
        Assert.Equal(2.0, lora.Alpha);
        using var x = randn(3, 6);
        using (no_grad())
        {
            var expected = module.forward(x);
            var actual = lora.forward(x);
            Assert.True(expected.allclose(actual, rtol: 1e-5, atol: 1e-6));
            Assert.True(module.DeltaWeight().allclose(lora.DeltaWeight(), rtol: 1e-5, atol: 1e-6));
        }

        Assert.Null(module.ToLora(zeros(4)));
        Assert.Throws<ArgumentException>(() => new AdaLoraModule(AdaptedLayer.TryCreate(nn.Conv2d(2, 2, 3))!, 2, 2));
    }

    [Fact]
    public void Allocation_keeps_the_highest_scores_across_layers()
    {
        manual_seed(5);
        using var a = nn.Linear(4, 4);
        using var b = nn.Linear(4, 4);
        using var ma = new AdaLoraModule(AdaptedLayer.TryCreate(a)!, 3, 3);
        using var mb = new AdaLoraModule(AdaptedLayer.TryCreate(b)!, 3, 3);
        using (no_grad())
        {
            ma.Lambda.fill_(1);
            mb.Lambda.fill_(1);
        }

        using var allocator = new AdaLoraAllocator([("a", ma), ("b", mb)], 0, 0);
        // Gradients that make layer b's triplets 1 and 2 and layer a's triplet 0 the most important.
        (ma.Lambda.reshape(-1) * tensor(new[] { 3f, 0.1f, 0.2f })).sum().backward();
        (mb.Lambda.reshape(-1) * tensor(new[] { 0.05f, 5f, 4f })).sum().backward();
        allocator.UpdateScores();
        // With beta = 0 the uncertainty is |I - I| = 0: every score is 0, ties keep the earlier triplets.
        allocator.Allocate(3);
        Assert.Equal([1f, 1f, 1f], allocator.Keep("a").data<float>().ToArray());

        using (no_grad())
        {
            ma.Lambda.fill_(1);
            mb.Lambda.fill_(1);
        }

        using var smoothed = new AdaLoraAllocator([("a", ma), ("b", mb)], 0.5, 0.5);
        smoothed.UpdateScores();
        smoothed.Allocate(3);
        Assert.Equal([1f, 0f, 0f], smoothed.Keep("a").data<float>().ToArray());
        Assert.Equal([0f, 1f, 1f], smoothed.Keep("b").data<float>().ToArray());
        Assert.Equal(0f, ma.Lambda[1, 0].item<float>());
        Assert.Equal(1f, mb.Lambda[1, 0].item<float>());
        Assert.Equal(new Dictionary<string, int> { ["a"] = 1, ["b"] = 2 }, smoothed.KeptRanks());
    }
}
