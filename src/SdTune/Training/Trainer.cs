using System.Diagnostics;
using System.Globalization;
using SdTune.Conditioning;
using SdTune.IO;
using SdTune.Models;
using SdTune.Runtime;
using SdTune.Schedulers;
using SdTune.Training.Caching;
using SdTune.Training.Data;
using SdTune.Training.Methods;
using SdTune.Training.Optimization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Training;

/// <summary>
/// The training loop, for any <see cref="ITrainingMethod"/>. Per micro-batch: latents from the <see cref="ILatentSource"/>,
/// text encoding (with gradients only when the method trains the text encoder), noise (+ offset noise), timesteps uniform
/// in [0, 1000) per sample, noisy latents, an epsilon or velocity target, the UNet forward pass, per-sample MSE times
/// min-SNR weights, reduced by the method; backward (loss-scaled for fp16). Per optimizer step: clipping, the optimizer,
/// the learning-rate schedule, EMA. Every random draw comes from the run's seeded generators, whose states go into the
/// resumable state, so a resumed run repeats a straight one bit for bit on the CPU.
/// </summary>
public sealed class Trainer
{
    private const string ResolvedConfigFile = "config.resolved.toml";
    private readonly TrainerServices services;

    /// <summary>Creates a trainer; the configuration is validated here.</summary>
    /// <exception cref="TrainingConfigException">The configuration is invalid; the message names the key.</exception>
    public Trainer(TrainingConfig config, TrainerServices? services = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        this.services = services ?? new TrainerServices();
    }

    /// <summary>The validated configuration.</summary>
    public TrainingConfig Config { get; }

    /// <summary>
    /// Runs the training to its end (or until <paramref name="cancellationToken"/> is cancelled, which stops after the
    /// current optimizer step and, with <c>save_state</c>, writes a state folder to resume from).
    /// </summary>
    /// <exception cref="TrainingConfigException">A configuration problem found while setting up.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    public TrainingResult Run(CancellationToken cancellationToken = default)
    {
        var model = services.Model ?? StableDiffusionModel.Load(Config.PretrainedModel!);
        try
        {
            var resolved = Config.Resolve(model);
            using var method = services.Method ?? TrainingMethods.Create(Config.Method);
            using var run = new TrainingSession(resolved, services, model, method);
            return run.Execute(cancellationToken);
        }
        finally
        {
            if (services.Model is null)
            {
                model.Dispose();
            }
        }
    }

    /// <summary>The state of one session of training.</summary>
    private sealed class TrainingSession : IDisposable
    {
        private readonly ResolvedTrainingConfig resolved;
        private readonly TrainingConfig config;
        private readonly TrainerServices services;
        private readonly StableDiffusionModel model;
        private readonly ITrainingMethod method;
        private readonly List<string> warnings = [];
        private readonly List<string> outputs = [];
        private readonly List<string> stateFolders = [];
        private readonly List<double> losses = [];
        private readonly Queue<double> recent = new();
        private readonly Generator generator;
        private readonly string outputDir;
        private NoiseSchedule schedule = null!;
        private PredictionType prediction;
        private TrainingData data = null!;
        private TrainingOptimizer optimizer = null!;
        private LearningRateSchedule lrSchedule = null!;
        private List<Parameter> trainable = [];
        private EmaWeights? ema;
        private DynamicLossScaler? scaler;
        private ILatentSource latentSource = null!;
        private LatentCache? latentCache;
        private CaptionConditioning? captionConditioning;
        private IReadOnlyList<SamplePrompt> samplePrompts = [];
        private SummaryWriter? tensorBoard;
        private long totalSteps;
        private int totalEpochs;
        private long globalStep;
        private int epoch = 1;
        private int batchIndex;
        private long sessionId;
        private DateTimeOffset startedAt;
        private string? lastSave;
        private bool warnedNoGenerator;

        public TrainingSession(ResolvedTrainingConfig resolved, TrainerServices services, StableDiffusionModel model, ITrainingMethod method)
        {
            this.resolved = resolved;
            config = resolved.Config;
            this.services = services;
            this.model = model;
            this.method = method;
            outputDir = Path.GetFullPath(config.OutputDir!);
            generator = new Generator(unchecked((ulong)config.Seed));
        }

        private ScalarType WeightDType => config.MixedPrecision switch
        {
            MixedPrecision.BFloat16 => ScalarType.BFloat16,
            MixedPrecision.Float16 => ScalarType.Float16,
            _ => ScalarType.Float32,
        };

        public TrainingResult Execute(CancellationToken cancellationToken)
        {
            Setup();
            var stopwatch = Stopwatch.StartNew();
            var sessionStart = globalStep;
            while (globalStep < totalSteps)
            {
                var batches = data.GetEpoch(epoch);
                while (batchIndex < batches.Count && globalStep < totalSteps)
                {
                    var info = new TrainingStepInfo(globalStep, totalSteps, epoch);
                    method.BeforeStep(info);
                    var end = Math.Min(batchIndex + config.GradientAccumulationSteps, batches.Count);
                    var stepLoss = 0.0;
                    var micro = 0;
                    for (; batchIndex < end; batchIndex++)
                    {
                        var loss = MicroStep(batches[batchIndex]);
                        if (!double.IsFinite(loss))
                        {
                            optimizer.ZeroGrad();
                            throw new TrainingDivergedException(globalStep + 1, loss, lastSave);
                        }

                        stepLoss += loss;
                        micro++;
                    }

                    var rates = OptimizerStep();
                    globalStep++;
                    method.AfterStep(info);
                    var epochDone = batchIndex >= batches.Count;
                    var completedEpoch = epoch;
                    if (epochDone)
                    {
                        epoch++;
                        batchIndex = 0;
                    }

                    Report(stepLoss / micro, rates, completedEpoch, stopwatch, sessionStart);
                    AfterOptimizerStep(epochDone ? completedEpoch : null);
                    if (cancellationToken.IsCancellationRequested && globalStep < totalSteps)
                    {
                        if (config.SaveState)
                        {
                            SaveStateFolder(Path.Combine(outputDir, TrainingState.FolderName(config.OutputName, globalStep)));
                        }

                        Log($"Training interrupted after step {globalStep} of {totalSteps}.");
                        return Result();
                    }

                    if (epochDone)
                    {
                        break;
                    }
                }
            }

            SaveOutput(config.OutputName);
            if (config.SaveState)
            {
                SaveStateFolder(Path.Combine(outputDir, config.OutputName + "-state"));
            }

            return Result();
        }

        public void Dispose()
        {
            ema?.Dispose();
            optimizer?.Dispose();
            latentCache?.Dispose();
            captionConditioning?.Dispose();
            generator.Dispose();
        }

        private TrainingResult Result() => new(globalStep, [.. outputs], [.. stateFolders], [.. losses], [.. warnings]);

        private void Setup()
        {
            foreach (var action in StagingPaths.SweepStale(outputDir, depth: 1))
            {
                Log($"output_dir: {action}");
            }

            prediction = config.VParameterization is { } v ? (v ? PredictionType.VPrediction : PredictionType.Epsilon) : model.PredictionType;
            var scheduleConfig = NoiseScheduleConfig.FromJson(model.SchedulerConfig.ToJsonString(), "the model's scheduler config") with { PredictionType = prediction };
            schedule = new NoiseSchedule(scheduleConfig);

            foreach (var module in Modules())
            {
                module.eval();
                foreach (var p in module.parameters())
                {
                    p.requires_grad = false;
                }
            }

            if (config.ReleaseFreedMemory == true)
            {
                NativeAllocator.ReleaseFreedMemoryPromptly();
            }

            model.Vae.to(WeightDType);
            // Checkpointing acts on modules in training mode: after the method is prepared, a frozen base with
            // adapters (LoRA) is put in training mode for it, as sd-scripts does (no dropout in SD's UNet and CLIP).
            model.Unet.GradientCheckpointing = config.GradientCheckpointing;
            model.TextEncoder.GradientCheckpointing = config.GradientCheckpointing;
            if (model.TextEncoder2 is not null)
            {
                model.TextEncoder2.GradientCheckpointing = config.GradientCheckpointing;
            }


            var reader = services.ImageReader ?? new ImageFileReader();
            var context = new TrainingContext
            {
                Config = config,
                Model = model,
                WeightDType = WeightDType,
                PredictionType = prediction,
                ImageGenerator = services.ImageGenerator,
                Warnings = warnings,
            };
            // Seeded before the method creates its weights, so fresh networks start the same in every run.
            torch.random.manual_seed(config.Seed);
            var groups = method.Prepare(context);
            method.SetTrainingMode(true);
            if (config.GradientCheckpointing)
            {
                model.Unet.train();
                if (method.TrainsTextEncoder)
                {
                    model.TextEncoder.train();
                    model.TextEncoder2?.train();
                }
            }

            trainable = [.. groups.SelectMany(g => g.Parameters)];

            var dataWarnings = new List<string>(resolved.Warnings);
            data = TrainingData.Build(resolved, reader, dataWarnings);
            dataWarnings.ForEach(Warn);
            if (services.LatentSource is { } factory)
            {
                latentSource = factory(model, reader);
            }
            else
            {
                latentSource = config.CacheLatents && CreateLatentCache(reader) is { } cache
                    ? new CachedLatentSource(cache, model.Vae.Config.ScalingFactor, model.Vae.Config.ShiftFactor, model.Unet.parameters().First().device)
                    : new VaeLatentSource(model.Vae, reader);
            }

            var stepsPerEpoch = (data.BatchesPerEpoch + config.GradientAccumulationSteps - 1) / config.GradientAccumulationSteps;
            totalSteps = config.MaxTrainSteps ?? ((long)config.MaxTrainEpochs!.Value * stepsPerEpoch);
            totalEpochs = (int)((totalSteps + stepsPerEpoch - 1) / stepsPerEpoch);

            var optimizerOptions = OptimizerArguments.Create(config.OptimizerType, config.OptimizerArgs);
            optimizer = OptimizerFactory.Create(config.OptimizerType, groups, optimizerOptions);
            try
            {
                lrSchedule = LearningRateSchedule.Create(config.LrScheduler, totalSteps, WarmupLength.Parse(config.LrWarmupSteps),
                    config.LrSchedulerNumCycles, config.LrSchedulerPower, initialLearningRate: config.LearningRate);
            }
            catch (ArgumentException e)
            {
                throw new TrainingConfigException("lr_scheduler", e.Message, e);
            }

            ema = config.UseEma ? new EmaWeights(trainable, new EmaOptions { Decay = config.EmaDecay }) : null;
            scaler = config.MixedPrecision == MixedPrecision.Float16 ? new DynamicLossScaler() : null;
            sessionId = Random.Shared.NextInt64(0, 1L << 32);
            startedAt = DateTimeOffset.UtcNow;
            if (config.Resume is { } resume)
            {
                Restore(resume);
            }

            if (config.SamplePrompts is { } prompts && (config.SampleEveryNSteps is not null || config.SampleEveryNEpochs is not null))
            {
                samplePrompts = SamplePromptFile.Load(prompts);
            }

            Directory.CreateDirectory(outputDir);
            AtomicFile.WriteAllText(Path.Combine(outputDir, ResolvedConfigFile), resolved.ToToml());
            if (config.LoggingDir is { } logging)
            {
                tensorBoard = torch.utils.tensorboard.SummaryWriter(
                    Path.Combine(Path.GetFullPath(logging), config.OutputName + startedAt.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)), "", false);
            }
        }

        private IEnumerable<nn.Module> Modules()
        {
            yield return model.Unet;
            yield return model.Vae;
            yield return model.TextEncoder;
            if (model.TextEncoder2 is { } te2)
            {
                yield return te2;
            }
        }

        private double MicroStep(TrainingBatch batch)
        {
            using var scope = NewDisposeScope();
            var latents = latentSource.GetLatents(batch, generator);
            var (hidden, added) = EncodeText(batch);
            var shape = latents.shape;
            var noise = randn(shape, dtype: ScalarType.Float32, device: latents.device, generator: generator);
            if (config.NoiseOffset > 0)
            {
                var offset = randn([shape[0], shape[1], 1, 1], dtype: ScalarType.Float32, device: latents.device, generator: generator);
                noise = OffsetNoise.Apply(noise, offset, config.NoiseOffset);
            }

            var timesteps = randint(0, schedule.NumTrainTimesteps, [shape[0]], dtype: ScalarType.Int64, device: latents.device, generator: generator);
            var noisy = schedule.AddNoise(latents, noise, timesteps);
            var target = schedule.TrainingTarget(latents, noise, timesteps, prediction);
            var unetType = model.Unet.parameters().First().dtype;
            var pred = model.Unet.forward(noisy.to(unetType), timesteps, hidden.to(unetType), added);
            var perSample = nn.functional.mse_loss(pred.to(ScalarType.Float32), target.to(ScalarType.Float32), nn.Reduction.None).mean([1, 2, 3]);
            if (config.MinSnrGamma is { } gamma)
            {
                perSample = perSample * schedule.MinSnrWeights(timesteps, gamma, prediction).to(ScalarType.Float32, perSample.device);
            }

            var loss = method.ReduceLoss(perSample, batch.Samples);
            var value = loss.item<float>();
            if (!float.IsFinite(value))
            {
                return value;
            }

            var scaled = loss / config.GradientAccumulationSteps;
            if (scaler is not null)
            {
                scaled = scaler.ScaleLoss(scaled);
            }

            scaled.backward();
            return value;
        }

        private UNetConditioning EncodeText(TrainingBatch batch)
        {
            captionConditioning ??= new CaptionConditioning(model, config.ClipSkip, method.TrainsTextEncoder, config.CacheTextEncoderOutputs);
            return captionConditioning.Encode(batch);
        }

        private Dictionary<string, double> OptimizerStep()
        {
            using var scope = NewDisposeScope();
            lrSchedule.Apply(optimizer, globalStep);
            var rates = optimizer.Groups.ToDictionary(g => g.Name, g => g.LearningRate, StringComparer.Ordinal);
            var withGrad = trainable.Where(p => p.grad is not null).ToList();
            if (scaler is not null)
            {
                if (scaler.Unscale(optimizer) && config.MaxGradNorm > 0 && withGrad.Count > 0)
                {
                    GradientClipping.ClipByGlobalNorm(withGrad, config.MaxGradNorm);
                }

                scaler.Step(optimizer);
            }
            else
            {
                if (config.MaxGradNorm > 0 && withGrad.Count > 0)
                {
                    GradientClipping.ClipByGlobalNorm(withGrad, config.MaxGradNorm);
                }

                optimizer.Step();
            }

            optimizer.ZeroGrad();
            ema?.Step(trainable);
            return rates;
        }

        private void Report(double loss, Dictionary<string, double> rates, int currentEpoch, Stopwatch stopwatch, long sessionStart)
        {
            losses.Add(loss);
            recent.Enqueue(loss);
            if (recent.Count > 100)
            {
                recent.Dequeue();
            }

            var done = globalStep - sessionStart;
            var perSecond = done / Math.Max(stopwatch.Elapsed.TotalSeconds, 1e-9);
            var remaining = TimeSpan.FromSeconds(perSecond > 0 ? (totalSteps - globalStep) / perSecond : 0);
            services.Progress?.Report(new TrainingProgress(globalStep, totalSteps, currentEpoch, totalEpochs, loss, recent.Average(), rates, perSecond, remaining));
            if (tensorBoard is not null)
            {
                var step = (int)Math.Min(globalStep, int.MaxValue);
                tensorBoard.add_scalar("loss/current", (float)loss, step);
                tensorBoard.add_scalar("loss/average", (float)recent.Average(), step);
                foreach (var (group, rate) in rates)
                {
                    tensorBoard.add_scalar($"lr/{group}", (float)rate, step);
                }
            }
        }

        private void AfterOptimizerStep(int? completedEpoch)
        {
            // Samples follow their schedule up to and including the last step; intermediate saves stop before
            // it (the final output is written after the loop).
            var sampleByEpoch = config.SampleEveryNEpochs is { } se && completedEpoch is { } ce && ce % se == 0;
            var sampleByStep = config.SampleEveryNEpochs is null && config.SampleEveryNSteps is { } ss && globalStep % ss == 0;
            if (sampleByEpoch || sampleByStep)
            {
                Sample(sampleByEpoch ? completedEpoch : null);
            }
            if (globalStep >= totalSteps)
            {
                return;
            }

            var byStep = config.SaveEveryNSteps is { } n && globalStep % n == 0;
            var byEpoch = completedEpoch is { } e && config.SaveEveryNEpochs is { } ne && e % ne == 0;
            if (byEpoch)
            {
                var name = string.Create(CultureInfo.InvariantCulture, $"{config.OutputName}-{completedEpoch:D6}");
                SaveOutput(name);
                if (config.SaveState)
                {
                    SaveStateFolder(Path.Combine(outputDir, name + "-state"));
                }
            }
            else if (byStep)
            {
                SaveOutput(string.Create(CultureInfo.InvariantCulture, $"{config.OutputName}-step{globalStep:D8}"));
                if (config.SaveState)
                {
                    SaveStateFolder(Path.Combine(outputDir, TrainingState.FolderName(config.OutputName, globalStep)));
                }
            }

        }

        private TrainingRunInfo RunInfo() => new()
        {
            Config = config,
            SessionId = sessionId,
            StartedAt = startedAt,
            Step = globalStep,
            Epoch = batchIndex == 0 ? Math.Max(1, epoch - 1) : epoch,
            TotalSteps = totalSteps,
            TotalEpochs = totalEpochs,
            Resolution = resolved.Resolution,
            BatchesPerEpoch = data.BatchesPerEpoch,
            TrainImages = data.TrainImages,
            RegImages = data.RegImages,
            Dataset = data.Summary,
            Optimizer = OptimizerArguments.Describe(optimizer.Name, config.OptimizerArgs),
            WarmupSteps = lrSchedule.WarmupSteps,
        };

        private void SaveOutput(string name)
        {
            // With EMA the averaged weights are what gets saved; the live ones go back afterwards.
            ema?.Store(trainable);
            ema?.CopyTo(trainable);
            try
            {
                var written = method.SaveOutput(outputDir, name, RunInfo());
                outputs.AddRange(written);
                lastSave = written.LastOrDefault() ?? lastSave;
            }
            finally
            {
                ema?.Restore(trainable);
            }
        }

        private void SaveStateFolder(string folder)
        {
            using var scope = NewDisposeScope();
            var state = new TrainingState
            {
                Method = method.Name,
                GlobalStep = globalStep,
                Epoch = epoch,
                BatchIndex = batchIndex,
                SessionId = sessionId,
                StartedAt = startedAt,
                LossScale = scaler?.Scale,
                LossScaleGrowthTracker = scaler?.GrowthTracker ?? 0,
                ConfigToml = resolved.ToToml(),
            };
            using var snapshot = optimizer.GetState();
            var rng = new List<KeyValuePair<string, Tensor>>
            {
                new("generator", generator.get_state()),
                new("torch_default", torch.random.get_rng_state()),
            };
            TrainingState.Save(folder, state, method.GetState(), snapshot, ema?.GetState(), rng);
            stateFolders.Add(folder);
            lastSave = folder;
        }

        private void Restore(string folder)
        {
            using var scope = NewDisposeScope();
            var state = TrainingState.Load(folder);
            if (state.Method != method.Name)
            {
                throw new TrainingConfigException("resume", $"{folder} holds a {state.Method} state, but this run trains with {method.Name}.");
            }

            method.LoadState(TrainingState.ReadTensors(folder, TrainingState.MethodFile));
            using (var snapshot = OptimizerSnapshot.Load(Path.Combine(folder, TrainingState.OptimizerFile)))
            {
                optimizer.LoadState(snapshot);
            }

            if (ema is not null)
            {
                ema.LoadState(TrainingState.ReadTensors(folder, TrainingState.EmaFile));
            }

            var rng = TrainingState.ReadTensors(folder, TrainingState.RngFile);
            generator.set_state(rng["generator"]);
            torch.random.set_rng_state(rng["torch_default"]);
            if (scaler is not null && state.LossScale is { } scale)
            {
                scaler.Restore(scale, state.LossScaleGrowthTracker);
            }

            if (state.ConfigToml.Length > 0)
            {
                if (!resolved.SameRunAs(TrainingConfig.Parse(state.ConfigToml, Path.Combine(folder, TrainingState.ConfigFile))))
                {
                    Warn($"resume: the configuration differs from the one {folder} was saved with; the result will not match an uninterrupted run.");
                }
            }

            globalStep = state.GlobalStep;
            epoch = state.Epoch;
            batchIndex = state.BatchIndex;
            sessionId = state.SessionId;
            startedAt = state.StartedAt;
            lastSave = folder;
            if (globalStep > totalSteps)
            {
                Warn($"resume: the state is at step {globalStep}, past this run's {totalSteps} steps; nothing left to train.");
            }

            Log($"Resumed from {folder} at step {globalStep} (epoch {epoch}, batch {batchIndex}).");
        }

        private void Sample(int? completedEpoch)
        {
            if (samplePrompts.Count == 0)
            {
                return;
            }

            if (services.ImageGenerator is not { } imageGenerator)
            {
                if (!warnedNoGenerator)
                {
                    Warn("sample_prompts: no image generator is available; sample images are skipped.");
                    warnedNoGenerator = true;
                }

                return;
            }

            var folder = Path.Combine(outputDir, "sample");
            Directory.CreateDirectory(folder);
            var stamp = DateTime.Now.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
            var position = completedEpoch is { } e ? string.Create(CultureInfo.InvariantCulture, $"e{e:D6}") : string.Create(CultureInfo.InvariantCulture, $"{globalStep:D6}");
            var jobs = samplePrompts.Select((p, i) =>
            {
                var seed = p.Seed ?? unchecked((long)(SeededRandom.For(config.Seed, 5, i).NextUInt64() & 0xFFFFFFFF));
                return new SampleImageJob(p with { Seed = seed }, Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"{config.OutputName}_{position}_{i:D2}_{stamp}_{seed}.png")));
            }).ToList();
            var modes = Modules().Select(m => (Module: m, m.training)).ToList();

            // A generator that draws from the global generator must not shift the run's dropout draws.
            using var globalRng = torch.random.get_rng_state();
            method.SetTrainingMode(false);
            try
            {
                using var noGrad = no_grad();
                foreach (var (module, _) in modes)
                {
                    module.eval();
                }

                imageGenerator.Generate(model, jobs);
            }
            finally
            {
                foreach (var (module, training) in modes)
                {
                    module.train(training);
                }

                method.SetTrainingMode(true);
                torch.random.set_rng_state(globalRng);
            }
        }

        /// <summary>
        /// The latent cache for <c>cache_latents</c>: in memory, or on disk under the output folder with
        /// <c>cache_latents_to_disk</c> (kept across runs; an entry is only used when image, crop, flip and VAE match).
        /// </summary>
        private LatentCache CreateLatentCache(IImageReader reader)
        {
            var vae = model.Vae;
            var first = vae.parameters().First();
            var options = new LatentCacheOptions
            {
                VaeFingerprint = ModelFingerprint.Compute(vae, vae.Config.ToJson()),
                Folder = config.CacheLatentsToDisk ? Path.Combine(outputDir, "latent-cache") : null,
                Warn = Warn,
            };
            latentCache = new LatentCache(options, images => vae.Encode(images.to(first.dtype, first.device)), reader);
            return latentCache;
        }

        private void Warn(string message)
        {
            warnings.Add(message);
            services.Log?.Invoke(message);
        }

        private void Log(string message) => services.Log?.Invoke(message);
    }
}
