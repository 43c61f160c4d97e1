using System.Globalization;
using SdTune.Models;
using SdTune.Models.Control;
using SdTune.Runtime;
using SdTune.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Bench.Benchmarks;

/// <summary>
/// Where a ControlNet training step's memory goes, phase by phase, as the controlnet method runs it: SD 1.5 with
/// bf16 frozen weights, a ControlNet copied from the UNet in float32, gradient checkpointing on both, 512x512, batch 1.
/// After each phase it prints resident memory, the peak within that phase, and the bytes of the tensors it can name
/// (UNet / ControlNet parameters by type, gradients of each, optimizer state), so that what is left is activations,
/// temporaries and memory the allocator holds.
/// </summary>
internal static class ControlNetStepMemoryProbe
{
    public static void Run(string optimizer, int steps, bool checkpointing)
    {
        const int latent = 64;
        var preset = StableDiffusionPresets.Sd15;
        using var model = Infrastructure.RandomModels.Create(preset, ScalarType.BFloat16, seed: 3);
        Report("model built (bf16)", model, null, null);
        var unet = model.Unet;
        foreach (var module in model.Modules)
        {
            module.eval();
            foreach (var p in module.parameters())
            {
                p.requires_grad = false;
            }
        }

        // As the trainer holds it: the VAE in the frozen weights' type too (unused here: latents are random).
        model.Vae.to(ScalarType.BFloat16);
        unet.GradientCheckpointing = checkpointing;
        unet.train();
        var controlNet = ControlNetModel.FromUnet(unet, [16, 32, 96, 256]);
        controlNet.to(ScalarType.Float32);
        foreach (var p in controlNet.parameters())
        {
            p.requires_grad = true;
        }

        controlNet.GradientCheckpointing = checkpointing;
        controlNet.train();
        Report("ControlNet built", model, controlNet, null);
        using var opt = OptimizerFactory.Create(optimizer, [new ParameterGroup("controlnet", controlNet.parameters(), 1e-5)]);
        using var generator = new Generator(1);
        for (var step = 1; step <= steps; step++)
        {
            using (var scope = NewDisposeScope())
            {
                var latents = randn([1, 4, latent, latent], generator: generator);
                var hidden = randn([1, 77, preset.Unet.CrossAttentionDim[0]], generator: generator);
                var cond = rand([1, 3, latent * 8, latent * 8], generator: generator);
                var t = tensor(new long[] { 500 });
                ProcessMemory.ResetPeak();
                var output = controlNet.forward(latents, t, hidden, cond);
                Report($"step {step}: ControlNet forward", model, controlNet, opt);
                var down = output.DownBlockResiduals.Select(d => d.to(ScalarType.BFloat16)).ToList();
                var mid = output.MidBlockResidual.to(ScalarType.BFloat16);
                ProcessMemory.ResetPeak();
                var pred = unet.forward(latents.to(ScalarType.BFloat16), t, hidden.to(ScalarType.BFloat16), null, down, mid);
                Report($"step {step}: UNet forward", model, controlNet, opt);
                var loss = nn.functional.mse_loss(pred.to(ScalarType.Float32), latents);
                ProcessMemory.ResetPeak();
                loss.backward();
                Report($"step {step}: backward", model, controlNet, opt);
            }

            GC.Collect();
            GC.WaitForPendingFinalizers();
            Report($"step {step}: after step's scope + GC", model, controlNet, opt);
            ProcessMemory.ResetPeak();
            opt.Step();
            Report($"step {step}: optimizer step", model, controlNet, opt);
            opt.ZeroGrad();
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Report($"step {step}: zero grad + GC", model, controlNet, opt);
            if (Trim())
            {
                Report($"step {step}: after malloc_trim", model, controlNet, opt);
            }
        }

        controlNet.Dispose();
    }

    private static void Report(string phase, StableDiffusionModel model, ControlNetModel? controlNet, TrainingOptimizer? optimizer)
    {
        // The gradient handles read here are disposed with this scope, so they do not show in the live count.
        using var scope = NewDisposeScope();
        static double Gb(long bytes) => bytes / 1e9;
        static long Bytes(Tensor t) => t.NumberOfElements * t.ElementSize;
        var frozen = model.Modules.SelectMany(m => m.parameters()).ToList();
        var frozenBytes = frozen.Sum(Bytes);
        var frozenFp32 = frozen.Where(p => p.dtype == ScalarType.Float32).Sum(Bytes);
        var frozenGrads = frozen.Where(p => p.grad is not null).Sum(p => Bytes(p.grad!));
        var controlBytes = controlNet?.parameters().Sum(Bytes) ?? 0;
        var controlGrads = controlNet?.parameters().Where(p => p.grad is not null).Sum(p => Bytes(p.grad!)) ?? 0;
        var state = optimizer is null ? 0 : StateBytes(optimizer);
        var named = frozenBytes + controlBytes + frozenGrads + controlGrads + state;
        var rss = ProcessMemory.ResidentBytes();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{phase,-38} rss {Gb(rss):F2} GB, phase peak {Gb(ProcessMemory.PeakResidentBytes()):F2} GB | frozen {Gb(frozenBytes):F2} (fp32 {Gb(frozenFp32):F2}, grads {Gb(frozenGrads):F2}) | ControlNet {Gb(controlBytes):F2}, grads {Gb(controlGrads):F2} | optimizer {Gb(state):F2} | rest {Gb(rss - named):F2} GB | live tensor handles {DisposeScopeManager.Statistics.TensorStatistics.ThreadTotalLiveCount}"));
    }

    /// <summary>The bytes of the optimizer's per-parameter state tensors, read in place (a snapshot would copy them).</summary>
    private static long StateBytes(TrainingOptimizer optimizer)
    {
        var field = typeof(TrainingOptimizer).GetField("states", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;
        var states = (ParameterState?[][])field.GetValue(optimizer)!;
        return states.SelectMany(g => g).Where(s => s is not null).SelectMany(s => s!.Tensors.Select(kv => kv.Value)).Sum(t => t.NumberOfElements * t.ElementSize);
    }

    /// <summary>glibc's <c>malloc_trim(0)</c>: gives freed heap memory back to the system; false where unavailable.</summary>
    private static bool Trim()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            malloc_trim(0);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [System.Runtime.InteropServices.DllImport("libc.so.6")]
    private static extern int malloc_trim(nuint pad);
}
