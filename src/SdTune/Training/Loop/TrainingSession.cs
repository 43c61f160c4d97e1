using System.Diagnostics;
using System.Globalization;
using SdTune.IO;
using SdTune.Models;
using SdTune.Schedulers;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Training.Loop;

/// <summary>
/// One session of training, for any <see cref="ITrainingMethod"/>: set up completely by <see cref="Start"/> (resumed
/// from a state folder when the configuration says so), then run by <see cref="Execute"/>. Per micro-batch: latents,
/// the captions' conditioning, noise (+ offset noise), timesteps per sample (uniform in [0, 1000) unless the method draws them otherwise), noisy latents, an
/// epsilon or velocity target, the method's UNet residuals if any, the UNet forward pass, per-sample MSE times min-SNR
/// weights reduced by the method, plus its regulariser; backward (loss-scaled for fp16). Per optimizer step: clipping,
/// the optimizer, the learning-rate schedule, EMA, the method's step hooks, progress, samples and saves.
/// </summary>
internal sealed class TrainingSession : IDisposable
{
    private readonly TrainingParts parts;
    private readonly TrainingPosition position;
    private readonly TrainingJournal journal;
    private readonly TrainingSaves saves;
    private readonly SampleImages samples;

    private TrainingSession(TrainingParts parts, TrainingPosition position, TrainingJournal journal, TrainingSaves saves, SampleImages samples)
    {
        this.parts = parts;
        this.position = position;
        this.journal = journal;
        this.saves = saves;
        this.samples = samples;
    }

    private TrainingConfig Config => parts.Config;

    /// <summary>Builds the session's parts, restores a state to resume from, and records the configuration it runs.</summary>
    public static TrainingSession Start(ResolvedTrainingConfig resolved, TrainerServices services, StableDiffusionModel model, ITrainingMethod method)
    {
        var journal = new TrainingJournal(services);
        var parts = TrainingParts.Build(resolved, services, model, method, journal);
        try
        {
            var position = new TrainingPosition();
            var saves = new TrainingSaves(parts, position, journal);
            if (resolved.Config.Resume is { } resume)
            {
                saves.Restore(resume);
            }

            var samples = new SampleImages(parts, services, journal);
            Directory.CreateDirectory(parts.OutputDir);
            AtomicFile.WriteAllText(Path.Combine(parts.OutputDir, ResolvedTrainingConfig.FileName), resolved.ToToml());
            if (resolved.Config.LoggingDir is { } logging)
            {
                journal.LogTo(Path.Combine(Path.GetFullPath(logging), resolved.Config.OutputName + position.StartedAt.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)));
            }

            return new TrainingSession(parts, position, journal, saves, samples);
        }
        catch
        {
            parts.Dispose();
            throw;
        }
    }

    /// <summary>Trains to the end, or until <paramref name="cancellationToken"/> stops it after the current optimizer step.</summary>
    public TrainingResult Execute(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var sessionStart = position.GlobalStep;
        while (position.GlobalStep < parts.TotalSteps)
        {
            var batches = parts.Data.GetEpoch(position.Epoch);
            while (position.BatchIndex < batches.Count && position.GlobalStep < parts.TotalSteps)
            {
                var info = new TrainingStepInfo(position.GlobalStep, parts.TotalSteps, position.Epoch);
                parts.Method.BeforeStep(info);
                var end = Math.Min(position.BatchIndex + Config.GradientAccumulationSteps, batches.Count);
                var stepLoss = 0.0;
                var micro = 0;
                for (; position.BatchIndex < end; position.BatchIndex++)
                {
                    var loss = MicroStep(batches[position.BatchIndex]);
                    if (!double.IsFinite(loss))
                    {
                        parts.Optimizer.ZeroGrad();
                        throw new TrainingDivergedException(position.GlobalStep + 1, loss, position.LastSave);
                    }

                    stepLoss += loss;
                    micro++;
                }

                var rates = OptimizerStep(info);
                position.GlobalStep++;
                parts.Method.AfterStep(info);
                var epochDone = position.BatchIndex >= batches.Count;
                var completedEpoch = position.Epoch;
                if (epochDone)
                {
                    position.Epoch++;
                    position.BatchIndex = 0;
                }

                journal.Step(position, parts.TotalSteps, parts.TotalEpochs, completedEpoch, stepLoss / micro, rates, clock, sessionStart);
                samples.AfterStep(position.GlobalStep, epochDone ? completedEpoch : null);
                SaveAfterStep(epochDone ? completedEpoch : null);
                if (cancellationToken.IsCancellationRequested && position.GlobalStep < parts.TotalSteps)
                {
                    if (Config.SaveState)
                    {
                        saves.State(Path.Combine(parts.OutputDir, TrainingState.FolderName(Config.OutputName, position.GlobalStep)));
                    }

                    journal.Note($"Training interrupted after step {position.GlobalStep} of {parts.TotalSteps}.");
                    return journal.Result(position.GlobalStep);
                }

                if (epochDone)
                {
                    break;
                }
            }
        }

        saves.Output(Config.OutputName);
        if (Config.SaveState)
        {
            saves.State(Path.Combine(parts.OutputDir, Config.OutputName + "-state"));
        }

        return journal.Result(position.GlobalStep);
    }

    public void Dispose() => parts.Dispose();

    private double MicroStep(TrainingBatch batch)
    {
        using var scope = NewDisposeScope();
        var model = parts.Model;
        var generator = parts.Generator;
        var latents = parts.Latents.GetLatents(batch, generator);
        var (hidden, added) = parts.Captions.Encode(batch, position.GlobalStep);
        var shape = latents.shape;
        var noise = randn(shape, dtype: ScalarType.Float32, device: latents.device, generator: generator);
        if (Config.NoiseOffset > 0)
        {
            var offset = randn([shape[0], shape[1], 1, 1], dtype: ScalarType.Float32, device: latents.device, generator: generator);
            noise = OffsetNoise.Apply(noise, offset, Config.NoiseOffset);
        }

        var schedule = parts.Schedule;
        var timesteps = parts.Method.SampleTimesteps(shape[0], schedule.NumTrainTimesteps, generator, latents.device);
        var noisy = schedule.AddNoise(latents, noise, timesteps);
        var target = schedule.TrainingTarget(latents, noise, timesteps, parts.Prediction);
        var unetType = model.Unet.parameters().First().dtype;
        var residuals = parts.Method.UNetResiduals(new UNetResidualInputs(batch, noisy, timesteps, hidden, added));
        var pred = model.Unet.forward(noisy.to(unetType), timesteps, hidden.to(unetType), added,
            residuals?.Down, residuals?.Mid, residuals?.DownIntrablock);
        var perSample = nn.functional.mse_loss(pred.to(ScalarType.Float32), target.to(ScalarType.Float32), nn.Reduction.None).mean([1, 2, 3]);
        if (Config.MinSnrGamma is { } gamma)
        {
            perSample = perSample * schedule.MinSnrWeights(timesteps, gamma, parts.Prediction).to(ScalarType.Float32, perSample.device);
        }

        var loss = parts.Method.ReduceLoss(perSample, batch.Samples);
        if (parts.Method.LossRegularizer() is { } regularizer)
        {
            loss = loss + regularizer.to(ScalarType.Float32, loss.device);
        }

        var value = loss.item<float>();
        if (!float.IsFinite(value))
        {
            return value;
        }

        var scaled = loss / Config.GradientAccumulationSteps;
        if (parts.Scaler is not null)
        {
            scaled = parts.Scaler.ScaleLoss(scaled);
        }

        scaled.backward();
        return value;
    }

    private Dictionary<string, double> OptimizerStep(TrainingStepInfo info)
    {
        using var scope = NewDisposeScope();
        var optimizer = parts.Optimizer;
        parts.LrSchedule.Apply(optimizer, position.GlobalStep);
        var rates = optimizer.Groups.ToDictionary(g => g.Name, g => g.LearningRate, StringComparer.Ordinal);
        var withGrad = parts.Trainable.Where(p => p.grad is not null).ToList();
        var clip = Config.MaxGradNorm > 0 && withGrad.Count > 0;
        if (parts.Scaler is { } scaler)
        {
            if (scaler.Unscale(optimizer))
            {
                if (clip)
                {
                    GradientClipping.ClipByGlobalNorm(withGrad, Config.MaxGradNorm);
                }

                parts.Method.GradientsReady(info);
            }

            scaler.Step(optimizer);
        }
        else
        {
            if (clip)
            {
                GradientClipping.ClipByGlobalNorm(withGrad, Config.MaxGradNorm);
            }

            parts.Method.GradientsReady(info);
            optimizer.Step();
        }

        optimizer.ZeroGrad();
        parts.Ema?.Step(parts.Trainable);
        return rates;
    }

    /// <summary>Intermediate saves on their schedule; none at the last step (the final output follows the loop).</summary>
    private void SaveAfterStep(int? completedEpoch)
    {
        var step = position.GlobalStep;
        if (step >= parts.TotalSteps)
        {
            return;
        }

        var byStep = Config.SaveEveryNSteps is { } n && step % n == 0;
        var byEpoch = completedEpoch is { } e && Config.SaveEveryNEpochs is { } ne && e % ne == 0;
        if (byEpoch)
        {
            var name = string.Create(CultureInfo.InvariantCulture, $"{Config.OutputName}-{completedEpoch:D6}");
            saves.Output(name);
            if (Config.SaveState)
            {
                saves.State(Path.Combine(parts.OutputDir, name + "-state"));
            }
        }
        else if (byStep)
        {
            saves.Output(string.Create(CultureInfo.InvariantCulture, $"{Config.OutputName}-step{step:D8}"));
            if (Config.SaveState)
            {
                saves.State(Path.Combine(parts.OutputDir, TrainingState.FolderName(Config.OutputName, step)));
            }
        }
    }
}
