using System.Diagnostics;
using SdTune.Adapters;
using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.Models.Clip;
using SdTune.Models.Layers;
using SdTune.Models.Unet;
using SdTune.Tests.Models.Clip;
using TorchSharp;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SdTune.Tests.Models.Checkpointing;

/// <summary>
/// Gradient checkpointing must not change gradients. The recompute performs exactly the operations of the first run on
/// the same inputs (and, with dropout, the same RNG state), so each block's local gradients are bit-identical; what
/// differs is the order in which the autograd engine sums contributions reaching a tensor with several consumers (the
/// time embedding feeds every resnet, skips feed the up path, the context feeds every transformer). On the tiny
/// fixtures about a third of the gradients differ in the last bits (at most ~1.5e-7, in the CLIP position embedding,
/// which sums over every layer), so the tests assert 1e-6 absolute, not bit-equality; the single-block tests, where no
/// such summation happens, do assert bit-equality.
/// </summary>
public sealed class GradientCheckpointTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-6;

    [Fact]
    public void Multi_input_block_gets_the_plain_gradients_for_inputs_and_parameters_and_none_for_frozen_inputs()
    {
        manual_seed(3);
        using var linear = nn.Linear(6, 6);
        using var scope = NewDisposeScope();
        var x = randn(2, 6).requires_grad_(true);
        var t = randn(2, 6).requires_grad_(true);
        var frozen = randn(2, 6);
        Tensor Block(Tensor?[] v) => (linear.call(v[0]!) * v[1]!.sigmoid()) + v[2]!.tanh() + (v[3] is null ? 0 : 1);

        Tensor? xPlain, tPlain;
        Tensor wPlain;
        {
            var y = Block([x, t, frozen, null]);
            y.square().sum().backward();
            (xPlain, tPlain, wPlain) = (x.grad!.clone(), t.grad!.clone(), linear.weight!.grad!.clone());
        }

        x.grad!.zero_();
        t.grad!.zero_();
        linear.weight!.grad!.zero_();
        var checkpointed = GradientCheckpoint.Apply(Block, x, t, frozen, null);
        Assert.True(checkpointed.requires_grad);
        checkpointed.square().sum().backward();

        Assert.True(x.grad!.equal(xPlain).all().item<bool>());
        Assert.True(t.grad!.equal(tPlain).all().item<bool>());
        Assert.True(linear.weight.grad!.equal(wPlain).all().item<bool>());
        Assert.Null(frozen.grad);
    }

    [Fact]
    public void Parameters_get_gradients_even_when_no_input_requires_one()
    {
        manual_seed(4);
        using var linear = nn.Linear(5, 3);
        using var scope = NewDisposeScope();
        var x = randn(4, 5);
        linear.call(x).square().sum().backward();
        var expected = linear.weight!.grad!.clone();
        linear.weight.grad!.zero_();

        GradientCheckpoint.Apply(v => linear.call(v[0]!), x).square().sum().backward();

        Assert.True(linear.weight.grad!.equal(expected).all().item<bool>());
    }

    [Fact]
    public void Backward_through_a_chain_of_checkpointed_blocks_leaves_no_gradients_in_the_callers_scope()
    {
        manual_seed(6);
        using var linear = nn.Linear(8, 8);
        using var scope = NewDisposeScope();
        var x = randn(4, 8).requires_grad_(true);
        var y = x;
        for (var i = 0; i < 10; i++)
        {
            y = GradientCheckpoint.Apply(v => linear.call(v[0]!).tanh(), y);
        }

        var loss = y.square().sum();
        var beforeBackward = scope.DisposablesCount;
        loss.backward();

        // Each block's incoming and returned gradients used to stay here until the caller's scope ended (20 tensors for
        // 10 blocks, each as large as the block's activations). The leaf's gradient is read with x.grad afterwards.
        var added = scope.DisposablesCount - beforeBackward;
        output.WriteLine($"tensors added to the caller's scope by backward through 10 checkpointed blocks: {added}");
        Assert.True(added <= 2, $"backward left {added} tensors in the caller's dispose scope");
        Assert.NotNull(x.grad);
        Assert.NotNull(linear.weight!.grad);
    }

    [Fact]
    public void Without_gradient_recording_the_block_runs_plainly()
    {
        using var linear = nn.Linear(5, 3);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var y = GradientCheckpoint.Apply(v => linear.call(v[0]!), randn(4, 5));
        Assert.False(y.requires_grad);
    }

    [Fact]
    public void UNet_gradients_of_every_parameter_and_the_context_are_those_of_the_plain_pass()
    {
        using var unet = LoadTinyUNet();
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("unet_sd1_tiny.safetensors"));
        using var scope = NewDisposeScope();
        var (sample, timestep, context, target) = UNetInputs(fixture);
        var contextLeaf = context.clone().requires_grad_(true);
        var parameters = unet.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        Tensor Loss() => nn.functional.mse_loss(unet.forward(sample, timestep, contextLeaf), target);

        var plain = Collect(parameters, contextLeaf, Loss);
        unet.GradientCheckpointing = true;
        var proj = CountCalls(unet, "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q");
        var checkpointed = Collect(parameters, contextLeaf, Loss);

        // The hook fired in forward and again in the recompute: the transformer layers really were checkpointed.
        Assert.Equal(2, proj.Count);
        GradientComparison.AssertEqual(plain, checkpointed, Tolerance, output, "UNet, all parameters + context");
        Assert.Equal(parameters.Count + 1, plain.Count);
        GradientComparison.Dispose(plain);
        GradientComparison.Dispose(checkpointed);
    }

    [Fact]
    public void UNet_with_dropout_gets_identical_gradients_because_the_rng_state_is_restored()
    {
        var config = UNet2DConditionConfig.Load(TestPaths.Fixture("unet_sd1_tiny.config.json")) with { Dropout = 0.3 };
        using var unet = new UNet2DConditionModel(config);
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("unet_sd1_tiny.safetensors"));
        ModuleWeights.Load(unet, fixture, ignore: ModelTestUtil.IsFixtureData);
        unet.train();
        using var scope = NewDisposeScope();
        var (sample, timestep, context, target) = UNetInputs(fixture);
        var parameters = unet.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        Tensor Loss()
        {
            manual_seed(1234);
            return nn.functional.mse_loss(unet.forward(sample, timestep, context), target);
        }

        var plain = GradientComparison.Collect(parameters, Loss);
        var afterPlain = rand(4);
        unet.GradientCheckpointing = true;
        var checkpointed = GradientComparison.Collect(parameters, Loss);
        var afterCheckpointed = rand(4);

        GradientComparison.AssertEqual(plain, checkpointed, Tolerance, output, "UNet with dropout 0.3");
        // The recompute leaves the generator where the plain pass leaves it.
        Assert.True(afterPlain.equal(afterCheckpointed).all().item<bool>());

        // Sanity: dropout is active, so another seed changes the gradients.
        unet.GradientCheckpointing = false;
        var otherSeed = GradientComparison.Collect(parameters, () =>
        {
            manual_seed(99);
            return nn.functional.mse_loss(unet.forward(sample, timestep, context), target);
        });
        Assert.True((otherSeed["conv_in.weight"] - plain["conv_in.weight"]).abs().max().item<float>() > 1e-6);
        GradientComparison.Dispose(plain);
        GradientComparison.Dispose(checkpointed);
        GradientComparison.Dispose(otherSeed);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.25)]
    public void LoRA_parameters_on_a_frozen_UNet_and_text_encoder_get_the_plain_gradients(double loraDropout)
    {
        using var unet = LoadTinyUNet();
        using var clip = ClipTextFixture.LoadModel();
        clip.train();
        foreach (var p in unet.parameters().Concat(clip.parameters()))
        {
            p.requires_grad_(false);
        }

        using var network = LoraNetwork.Create(new LoraTargets(unet, clip), new LoraNetworkOptions { Dim = 4, Alpha = 2, ConvDim = 2, ConvAlpha = 1, Dropout = loraDropout });
        RandomiseUpFactors(network);
        network.Attach();
        network.train();
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("unet_sd1_tiny.safetensors"));
        using var scope = NewDisposeScope();
        var (sample, timestep, _, target) = UNetInputs(fixture);
        var ids = ClipTextFixture.Read("input.input_ids").narrow(1, 0, 7);
        var parameters = network.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, p.parameter)).ToList();
        Assert.Contains(parameters, p => p.name.StartsWith("lora_te_", StringComparison.Ordinal));
        Assert.Contains(parameters, p => p.name.StartsWith("lora_unet_", StringComparison.Ordinal));
        Tensor Loss()
        {
            manual_seed(77);
            var context = clip.Encode(ids);
            return nn.functional.mse_loss(unet.forward(sample, timestep, context), target);
        }

        var plain = GradientComparison.Collect(parameters, Loss);
        unet.GradientCheckpointing = true;
        clip.GradientCheckpointing = true;
        var checkpointed = GradientComparison.Collect(parameters, Loss);

        GradientComparison.AssertEqual(plain, checkpointed, Tolerance, output, $"LoRA only (dropout {loraDropout})");
        GradientComparison.Dispose(plain);
        GradientComparison.Dispose(checkpointed);
    }

    [Fact]
    public void Text_encoder_gradients_of_every_parameter_are_those_of_the_plain_pass()
    {
        using var clip = ClipTextFixture.LoadModel();
        clip.train();
        using var scope = NewDisposeScope();
        var ids = ClipTextFixture.Read("input.input_ids");
        var parameters = clip.named_parameters().Select(p => (p.name, p.parameter)).ToList();
        // Pooled output and every hidden state reach the loss, so every layer's backward path is exercised.
        Tensor Loss()
        {
            var outputs = clip.forward(ids);
            return outputs.TextEmbeds!.square().mean() + outputs.HiddenStates[1].square().mean() + clip.Encode(ids, clipSkip: 2).abs().mean();
        }

        var plain = GradientComparison.Collect(parameters, Loss);
        clip.GradientCheckpointing = true;
        var checkpointed = GradientComparison.Collect(parameters, Loss);

        GradientComparison.AssertEqual(plain, checkpointed, Tolerance, output, "CLIP text encoder, all parameters");
        GradientComparison.Dispose(plain);
        GradientComparison.Dispose(checkpointed);
    }

    [Fact]
    public void Checkpointing_is_off_in_eval_mode()
    {
        using var unet = LoadTinyUNet();
        unet.eval();
        unet.GradientCheckpointing = true;
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("unet_sd1_tiny.safetensors"));
        using var scope = NewDisposeScope();
        var (sample, timestep, context, _) = UNetInputs(fixture);
        var proj = CountCalls(unet, "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q");
        unet.forward(sample, timestep, context).mean().backward();
        Assert.Equal(1, proj.Count);
    }

    [Fact]
    public void Live_tensor_count_stays_flat_across_checkpointed_training_steps()
    {
        using var unet = LoadTinyUNet();
        using var clip = ClipTextFixture.LoadModel();
        clip.train();
        unet.GradientCheckpointing = true;
        clip.GradientCheckpointing = true;
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("unet_sd1_tiny.safetensors"));
        var (sample, timestep, _, target) = UNetInputs(fixture);
        var ids = ClipTextFixture.Read("input.input_ids").narrow(1, 0, 7);
        using var optimizer = optim.SGD(unet.parameters().Concat(clip.parameters()), 1e-3);
        var live = new List<long>();
        var watch = new Stopwatch();
        for (var step = 0; step < 6; step++)
        {
            watch.Restart();
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                var loss = nn.functional.mse_loss(unet.forward(sample, timestep, clip.Encode(ids)), target);
                loss.backward();
                optimizer.step();
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount);
            output.WriteLine($"step {step}: {watch.Elapsed.TotalMilliseconds:F1} ms, live tensors {live[^1]}");
        }

        Assert.Equal(live[2], live[^1]);
        // Checkpointed first: resident memory rarely shrinks, so the second measurement would reuse the first one's pages.
        var checkpointedMb = HeldByGraph(unet, true);
        var plainMb = HeldByGraph(unet, false);
        output.WriteLine($"memory held between forward and backward at 2x4x48x48: checkpointed {checkpointedMb:F0} MB, plain {plainMb:F0} MB (RSS growth; indicative only)");
        sample.Dispose();
        timestep.Dispose();
        target.Dispose();
        ids.Dispose();
    }

    /// <summary>Resident-memory growth from before the forward pass to just before backward: roughly what the graph keeps.</summary>
    private static double HeldByGraph(UNet2DConditionModel unet, bool checkpointing)
    {
        unet.GradientCheckpointing = checkpointing;
        using var scope = NewDisposeScope();
        manual_seed(0);
        var sample = randn(2, 4, 48, 48);
        var context = randn(2, 7, 32);
        GC.Collect();
        var before = ResidentMegabytes();
        var loss = unet.forward(sample, 10.0, context).square().mean();
        var held = ResidentMegabytes() - before;
        loss.backward();
        unet.zero_grad();
        return held;
    }

    private static double ResidentMegabytes()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64 / (1024.0 * 1024.0);
    }

    internal static UNet2DConditionModel LoadTinyUNet()
    {
        var unet = new UNet2DConditionModel(UNet2DConditionConfig.Load(TestPaths.Fixture("unet_sd1_tiny.config.json")));
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("unet_sd1_tiny.safetensors"));
        ModuleWeights.Load(unet, fixture, ignore: n => n.StartsWith("input", StringComparison.Ordinal) || n.StartsWith("output", StringComparison.Ordinal));
        unet.train();
        return unet;
    }

    private static (Tensor Sample, Tensor Timestep, Tensor Context, Tensor Target) UNetInputs(SafetensorsFile fixture) =>
        (fixture.Read("input.sample"), fixture.Read("input.timestep"), fixture.Read("input.encoder_hidden_states"), fixture.Read("output.sample") * 0.5);

    private static Dictionary<string, Tensor> Collect(List<(string Name, Parameter Parameter)> parameters, Tensor contextLeaf, Func<Tensor> loss)
    {
        contextLeaf.grad?.zero_();
        var gradients = GradientComparison.Collect(parameters, loss);
        gradients["<context>"] = contextLeaf.grad!.clone().DetachFromDisposeScope();
        return gradients;
    }

    private static void RandomiseUpFactors(LoraNetwork network)
    {
        // Fresh LoRA up factors are zero, which would make every down-factor gradient zero.
        manual_seed(5);
        using var noGrad = no_grad();
        foreach (var (name, p) in network.named_parameters())
        {
            if (name.Contains("lora_up", StringComparison.Ordinal))
            {
                p.normal_(0, 0.1);
            }
        }
    }

    private static CallCounter CountCalls(nn.Module model, string path)
    {
        var counter = new CallCounter();
        var module = model.named_modules().Single(m => m.name == path).module;
        switch (module)
        {
            case Conv2d conv:
                conv.register_forward_hook((_, _, y) =>
                {
                    counter.Count++;
                    return y;
                });
                break;
            case Linear linear:
                linear.register_forward_hook((_, _, y) =>
                {
                    counter.Count++;
                    return y;
                });
                break;
            default:
                throw new InvalidOperationException($"{path} is a {module.GetType().Name}, not a Linear or Conv2d.");
        }

        return counter;
    }

    private sealed class CallCounter
    {
        public int Count { get; set; }
    }
}
