using System.Diagnostics;
using SdTune.Conditioning;
using SdTune.Models.Unet;
using SdTune.Models.Vae;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using static TorchSharp.torch;

namespace SdTune.ToyWorld.Pretraining;

/// <summary>
/// Stage 2: the UNet and the text encoder together on the frozen VAE's latents (epsilon prediction with offset noise,
/// min-SNR γ = 5 weighting), each caption in a random phrasing and dropped to the empty prompt now and then.
/// </summary>
internal static class ToyDiffusionStage
{
    private const int EncodeChunk = 256;

    public static ToyStageResult Train(UNet2DConditionModel unet, TextConditioner conditioner, AutoencoderKL vae, ToyTrainingSet data, ToyPretrainingOptions options, double? budgetSeconds, Action<string> log,
        Action<int>? evaluate = null)
    {
        using var latents = EncodeAll(vae, data);
        var textEncoder = conditioner.Encoders[0].Encoder;
        var schedule = ToyBaseModel.NoiseSchedule();
        var random = SeededRandom.For(options.Seed, 0xD1F);
        var noise = new Generator((ulong)options.Seed + 23);
        var unetGroup = new ParameterGroup("unet", unet.parameters(), options.UnetLearningRate);
        var textGroup = new ParameterGroup("text_encoder", textEncoder.parameters(), options.TextEncoderLearningRate);
        using var optimizer = new AdamWOptimizer([unetGroup, textGroup], new AdamWOptions { WeightDecay = 0.01 });
        var tracker = new ToyLossTracker();
        var clock = Stopwatch.StartNew();
        unet.train();
        textEncoder.train();
        var step = 0;
        var batch = options.DiffusionBatch;
        for (; step < options.DiffusionSteps; step++)
        {
            if (budgetSeconds is { } b && clock.Elapsed.TotalSeconds >= b)
            {
                break;
            }

            var factor = ToyLearningRate.Factor(step, options.WarmupSteps, options.DiffusionSteps, clock.Elapsed.TotalSeconds, budgetSeconds);
            unetGroup.LearningRate = options.UnetLearningRate * factor;
            textGroup.LearningRate = options.TextEncoderLearningRate * factor;
            using var scope = NewDisposeScope();
            var indices = new long[batch];
            var tokenRows = new List<Tensor>(batch);
            var timesteps = new long[batch];
            for (var i = 0; i < batch; i++)
            {
                indices[i] = random.NextInt((int)data.Count);
                tokenRows.Add(random.NextDouble() < options.CaptionDropout
                    ? data.EmptyTokens
                    : data.Tokens[indices[i], random.NextInt(ToyTrainingSet.StyleCount)].unsqueeze(0));
                timesteps[i] = random.NextInt(schedule.NumTrainTimesteps);
            }

            var x0 = latents.index_select(0, tensor(indices));
            var t = tensor(timesteps);
            var eps = Schedulers.OffsetNoise.Sample(x0.shape, options.NoiseOffset, noise);
            var noisy = schedule.AddNoise(x0, eps, t);
            var context = conditioner.EncodeTokenIds([cat(tokenRows, 0)]).Context;
            var prediction = unet.forward(noisy, t, context);
            var perSample = (prediction - eps).pow(2).mean([1, 2, 3]);
            var loss = (perSample * schedule.MinSnrWeights(t, 5.0)).mean();
            optimizer.ZeroGrad();
            loss.backward();
            GradientClipping.ClipByGlobalNorm(unetGroup.Parameters.Concat(textGroup.Parameters), 1.0);
            optimizer.Step();
            tracker.Add(step, perSample.mean().item<float>());
            if ((step + 1) % options.LogEvery == 0)
            {
                log($"unet+text step {step + 1}: mse {tracker.Last:F4}, lr {unetGroup.LearningRate:G3}, {clock.Elapsed.TotalSeconds:F0} s");
            }

            if (evaluate is not null && options.EvaluateEvery is { } every && (step + 1) % every == 0)
            {
                unet.eval();
                textEncoder.eval();
                evaluate(step + 1);
                unet.train();
                textEncoder.train();
            }
        }

        unet.eval();
        textEncoder.eval();
        return new ToyStageResult("unet+text", step, clock.Elapsed.TotalSeconds, tracker.First, tracker.Last);
    }

    /// <summary>Posterior means of every picture times the VAE's scaling factor (no sampling: the targets stay fixed).</summary>
    private static Tensor EncodeAll(AutoencoderKL vae, ToyTrainingSet data)
    {
        using var noGrad = no_grad();
        var parts = new List<Tensor>();
        using var scope = NewDisposeScope();
        for (long start = 0; start < data.Count; start += EncodeChunk)
        {
            using var posterior = vae.Encode(data.Images.narrow(0, start, Math.Min(EncodeChunk, data.Count - start)));
            parts.Add(posterior.Mean * vae.Config.ScalingFactor);
        }

        return cat(parts, 0).MoveToOuterDisposeScope();
    }
}
