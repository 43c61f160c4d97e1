using System.Diagnostics;
using SdTune.Models.Vae;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using static TorchSharp.torch;

namespace SdTune.ToyWorld.Pretraining;

/// <summary>
/// Stage 1: the VAE as an autoencoder (per-pixel MSE of a posterior sample plus a small KL) on the training pictures
/// and on patterned pictures only the VAE sees (<see cref="ToyTrainingSet.VaeOnlyImages"/>).
/// </summary>
internal static class ToyVaeStage
{
    public static ToyStageResult Train(AutoencoderKL vae, ToyTrainingSet data, ToyPretrainingOptions options, double? budgetSeconds, Action<string> log)
    {
        var random = SeededRandom.For(options.Seed, 0x7A5);
        var noise = new Generator((ulong)options.Seed + 11);
        var group = new ParameterGroup("vae", vae.parameters(), options.VaeLearningRate);
        using var optimizer = new AdamWOptimizer([group], new AdamWOptions { WeightDecay = 0 });
        var tracker = new ToyLossTracker();
        var clock = Stopwatch.StartNew();
        using var pictures = cat([data.Images, data.VaeOnlyImages], 0);
        vae.train();
        var step = 0;
        for (; step < options.VaeSteps; step++)
        {
            if (budgetSeconds is { } b && clock.Elapsed.TotalSeconds >= b)
            {
                break;
            }

            group.LearningRate = options.VaeLearningRate * ToyLearningRate.Factor(step, options.WarmupSteps, options.VaeSteps, clock.Elapsed.TotalSeconds, budgetSeconds);
            using var scope = NewDisposeScope();
            var images = pictures.index_select(0, BatchIndices(random, pictures.shape[0], options.VaeBatch));
            using var posterior = vae.Encode(images);
            var reconstruction = vae.Decode(posterior.Sample(noise));
            var mse = nn.functional.mse_loss(reconstruction, images);
            var kl = posterior.KlToStandardNormal().mean() / posterior.Mean[0].numel();
            var loss = mse + (options.VaeKlWeight * kl);
            optimizer.ZeroGrad();
            loss.backward();
            GradientClipping.ClipByGlobalNorm(group.Parameters, 1.0);
            optimizer.Step();
            var value = mse.item<float>();
            tracker.Add(step, value);
            if ((step + 1) % options.LogEvery == 0)
            {
                log($"vae step {step + 1}: mse {tracker.Last:F5}, kl {kl.item<float>():F3}, lr {group.LearningRate:G3}, {clock.Elapsed.TotalSeconds:F0} s");
            }
        }

        vae.eval();
        return new ToyStageResult("vae", step, clock.Elapsed.TotalSeconds, tracker.First, tracker.Last);
    }

    /// <summary>The scaling factor that gives the latents unit standard deviation (posterior means of up to 1024 pictures).</summary>
    public static double LatentScale(AutoencoderKL vae, ToyTrainingSet data)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var n = Math.Min(1024, data.Count);
        using var posterior = vae.Encode(data.Images.narrow(0, 0, n));
        return 1.0 / posterior.Mean.std().item<float>();
    }

    /// <summary>
    /// The VAE's ceiling for the whole model: how often the evaluator still reads <paramref name="count"/> held-out
    /// pictures right after an encode-decode round trip (posterior mean).
    /// </summary>
    public static ToyAccuracy RoundTripAccuracy(AutoencoderKL vae, ToyWorldGenerator world, int count)
    {
        var scenes = Enumerable.Range(0, count).Select(i => world.Scene(i, heldOut: true)).ToList();
        var readings = ReadAfterRoundTrip(vae, world, scenes);
        return ToyAccuracy.Of("vae round trip", [.. readings.Zip(scenes, (r, s) => r.Matches(s))]);
    }

    /// <summary>The evaluator's readings of <paramref name="scenes"/> drawn, encoded and decoded (posterior mean).</summary>
    internal static IReadOnlyList<ToyReading> ReadAfterRoundTrip(AutoencoderKL vae, ToyWorldGenerator world, IReadOnlyList<ToyScene> scenes)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var bitmaps = scenes.Select(world.Render).ToList();
        var images = Imaging.ImageTensors.FromImages(bitmaps);
        bitmaps.ForEach(b => b.Dispose());
        using var posterior = vae.Encode(images);
        var decoded = vae.Decode(posterior.Mean).clamp(-1, 1);
        return new ToyEvaluator(world.ImageSize).ReadBatch(decoded);
    }

    internal static Tensor BatchIndices(SeededRandom random, long count, int batch)
    {
        var indices = new long[batch];
        for (var i = 0; i < batch; i++)
        {
            indices[i] = random.NextInt((int)count);
        }

        return tensor(indices);
    }
}
