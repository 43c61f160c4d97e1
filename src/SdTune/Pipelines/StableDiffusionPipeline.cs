using System.Diagnostics;
using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Conditioning;
using SdTune.Imaging;
using SdTune.Models;
using SdTune.Options;
using SdTune.Pipelines.Control;
using SdTune.Prompts;
using SdTune.Schedulers;
using SkiaSharp;
using static TorchSharp.torch;

namespace SdTune.Pipelines;

/// <summary>
/// txt2img and img2img for SD 1.x, 2.x and SDXL with AUTOMATIC1111's prompt semantics: emphasis, BREAK, long
/// prompts in chunks, embeddings by name, scheduled prompts (<c>[from:to:when]</c>, <c>[a|b]</c>), composable
/// <c>AND</c> with weights, <c>&lt;lora:…&gt;</c> and <c>&lt;hypernet:…&gt;</c> tags, classifier-free guidance, and A1111 seeds (image i uses
/// seed + i, noise drawn in float32 on the CPU, so a seed gives the same image on any device).
/// </summary>
public sealed class StableDiffusionPipeline : IDisposable
{
    private readonly StableDiffusionModel model;
    private readonly PipelineOptions options;
    private readonly EmbeddingLibrary embeddings;
    private readonly LoraLibrary loras;
    private readonly HypernetworkLibrary hypernetworks;
    private readonly NoiseSchedule schedule;
    private readonly List<string> loadWarnings = [];
    private Dictionary<string, LoraFile>? heldLoras;

    /// <summary>Creates a pipeline over a loaded model (the pipeline does not own the model).</summary>
    /// <exception cref="DirectoryNotFoundException">The embeddings, LoRA or hypernetwork folder does not exist.</exception>
    public StableDiffusionPipeline(StableDiffusionModel model, PipelineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        this.model = model;
        this.options = options ?? new PipelineOptions();
        embeddings = this.options.EmbeddingsFolder is { } folder
            ? EmbeddingLibrary.Load(folder, model.Tokenizer, TextConditioner.EmbeddingWidths(model), loadWarnings.Add)
            : EmbeddingLibrary.Empty;
        loras = this.options.LoraFolder is { } loraFolder ? LoraLibrary.Load(loraFolder) : LoraLibrary.None;
        hypernetworks = this.options.HypernetworkFolder is { } hypernetworkFolder ? HypernetworkLibrary.Load(hypernetworkFolder) : HypernetworkLibrary.None;
        schedule = new NoiseSchedule(NoiseScheduleConfig.FromJson(model.SchedulerConfig.ToJsonString(), "the model's scheduler config"));
    }

    /// <summary>Warnings from loading the embeddings folder (skipped files).</summary>
    public IReadOnlyList<string> LoadWarnings => loadWarnings;

    /// <summary>Generates the images of <paramref name="request"/>.</summary>
    /// <param name="request">The settings; a size not given is the model's own (<see cref="StableDiffusionModel.DefaultImageSize"/>).</param>
    /// <param name="progress">Called after every sampling step.</param>
    /// <param name="cancellationToken">Stops between steps.</param>
    /// <exception cref="ArgumentException">A setting is invalid (the message names it; unknown samplers list the valid ones).</exception>
    /// <exception cref="FileNotFoundException">A LoRA or hypernetwork named in the prompt or request cannot be found.</exception>
    public GenerationResult Generate(GenerationRequest request, Action<GenerationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        request = request.WithSize(model.DefaultImageSize);
        request.Validate();
        var layers = model.TextEncoder.Config.NumHiddenLayers;
        if (model.Architecture != SdArchitecture.SdxlBase && new NumericRange(NumberType.Int32, 1, layers).Problem(request.ClipSkip) is { } clipSkipProblem)
        {
            throw new ArgumentException($"--clip-skip: {clipSkipProblem[..^1]} (this model's text encoder has {layers} layers).");
        }

        var clock = Stopwatch.StartNew();
        var sampler = SamplerRegistry.Create(request.Sampler, schedule);
        var warnings = new List<string>(loadWarnings);
        var extracted = ExtraNetworkTags.Extract(request.Prompt);
        var applied = new List<(AppliedLora Lora, bool Held)>();
        var loraPaths = new List<string>();
        var loraHashes = new List<string>();
        AppliedHypernetworks? appliedHypernetworks = null;
        AppliedCustomDiffusion? customDiffusion = null;
        ActiveControls? controls = null;
        try
        {
            controls = ActiveControls.Load(request.Controls, model, request.Width!.Value, request.Height!.Value);
            var targets = new LoraTargets(model.Unet, model.TextEncoder, model.TextEncoder2);
            // label: the name A1111 keys the hash by (the one the prompt's tag mentions, without ':' and ',').
            void Apply(string name, string label, double te, double unet, IReadOnlyList<double>? blocks)
            {
                foreach (var weight in blocks is null ? [te, unet] : blocks.Append(te).Append(unet))
                {
                    if (NumericRange.AnyFloat32.Problem(weight) is { } problem)
                    {
                        throw new PromptSyntaxException($"<lora:{name}>: weight {problem}");
                    }
                }

                var path = loras.Resolve(name);
                loraPaths.Add(path);
                AppliedLora lora;
                if (heldLoras is not null && !applied.Any(a => a.Held && a.Lora.File.Path == path))
                {
                    if (!heldLoras.TryGetValue(path, out var file))
                    {
                        file = LoraFileReader.Read(path, targets);
                        heldLoras[path] = file;
                    }

                    lora = LoraApplier.Apply(targets, file, te, unet, LoraApplyMode.Hooks, blocks);
                    applied.Add((lora, true));
                }
                else
                {
                    lora = LoraApplier.Apply(targets, path, te, unet, LoraApplyMode.Hooks, blocks);
                    applied.Add((lora, false));
                }

                loraHashes.Add($"{label.Replace(":", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal)}: {ModelHashes.LoraHash(path)}");
                if (lora.File.UnmatchedKeys.Count > 0)
                {
                    warnings.Add($"{path}: {lora.File.UnmatchedKeys.Count} key(s) match no layer of this model and were ignored: {string.Join(", ", lora.File.UnmatchedKeys.Take(5))}{(lora.File.UnmatchedKeys.Count > 5 ? ", ..." : "")}");
                }
            }

            foreach (var (name, weight) in request.Loras)
            {
                Apply(name, Path.GetFileNameWithoutExtension(name), weight, weight, null);
            }

            foreach (var tag in extracted.Loras())
            {
                Apply(tag.Name, tag.Name, tag.TextEncoderWeight, tag.UnetWeight, tag.BlockWeights is { } lbw ? ParseBlockWeights(tag.Name, lbw, targets.Architecture) : null);
            }

            // A LoRA's own embeddings (pivotal tuning) come with it; their abstraction words in the prompt name them.
            var prompt = extracted.Prompt;
            var embeddingFiles = request.Embeddings.ToList();
            foreach (var file in loraPaths.Select(LoraEmbeddings.Beside).OfType<string>().Distinct(StringComparer.Ordinal).Where(f => !embeddingFiles.Contains(f)))
            {
                embeddingFiles.Add(file);
                var name = Path.GetFileNameWithoutExtension(file);
                var words = LoraEmbeddings.Abstractions(file);
                prompt = LoraEmbeddings.ReplaceWords(prompt, words, name);
                request = request with { NegativePrompt = LoraEmbeddings.ReplaceWords(request.NegativePrompt, words, name) };
            }

            // Custom Diffusion: its attention weights on the UNet, its modifier tokens as embeddings.
            customDiffusion = AppliedCustomDiffusion.Apply(model.Unet, request.CustomDiffusion, warnings.Add);
            embeddingFiles.AddRange(request.CustomDiffusion.SelectMany(CustomDiffusionFormat.TokenFiles).Where(f => !embeddingFiles.Contains(f)));

            using var requestEmbeddings = embeddingFiles.Count == 0 ? null : embeddings.With(embeddingFiles, model.Tokenizer, TextConditioner.EmbeddingWidths(model), warnings.Add);

            // The request's hypernetworks, then the prompt's tags, each applied to the output of the one before (as A1111 chains its loaded ones).
            appliedHypernetworks = AppliedHypernetworks.Attach(model.Unet, hypernetworks, request.Hypernetworks, extracted.Hypernets().Select(t => (t.Name, t.Multiplier)), warnings);
            var requestHypernetworks = appliedHypernetworks.Applied.Where(h => h.Index < request.Hypernetworks.Count).Select(h => (h.Name, h.Strength)).ToList();
            return Run(request, prompt, sampler, requestEmbeddings ?? embeddings, warnings, loraHashes, requestHypernetworks, controls, clock, progress, cancellationToken);
        }
        finally
        {
            controls?.Dispose();
            customDiffusion?.Dispose();
            appliedHypernetworks?.Dispose();
            foreach (var (lora, held) in applied)
            {
                if (held)
                {
                    lora.Remove();
                }
                else
                {
                    lora.Dispose();
                }
            }
        }
    }

    /// <summary>
    /// Keeps the LoRA files requests read until the returned handle is disposed, so that later requests apply them
    /// without reading them again (a grid's cells that share a LoRA file). Without a hold, every request reads its files.
    /// </summary>
    public IDisposable HoldLoraFiles()
    {
        heldLoras ??= new Dictionary<string, LoraFile>(StringComparer.Ordinal);
        return new LoraHold(this);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        ReleaseLoras();
        if (!ReferenceEquals(embeddings, EmbeddingLibrary.Empty))
        {
            embeddings.Dispose();
        }
    }

    private void ReleaseLoras()
    {
        foreach (var file in heldLoras?.Values ?? Enumerable.Empty<LoraFile>())
        {
            file.Network.Dispose();
        }

        heldLoras = null;
    }

    private GenerationResult Run(GenerationRequest request, string prompt, ISampler sampler, EmbeddingLibrary embeddings, List<string> warnings, List<string> loraHashes, List<(string Name, double Strength)> hypernets, ActiveControls controls, Stopwatch clock, Action<GenerationProgress>? progress, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var xl = model.Architecture == SdArchitecture.SdxlBase;
        if (xl && request.ClipSkip != 1)
        {
            warnings.Add("Clip skip is ignored for SDXL, which always uses the penultimate layer of both text encoders.");
        }

        var device = model.Unet.parameters().First().device;
        var unetType = model.Unet.parameters().First().dtype;
        var vaeType = model.Vae.parameters().First().dtype;
        var conditioner = TextConditioner.ForModel(model, xl ? null : request.ClipSkip, embeddings);

        // Conditioning: every sub-prompt (AND) is a schedule of texts; every distinct text is encoded once,
        // all padded to the same number of chunks so cond and uncond batch together.
        var subPrompts = CompositionalPrompt.Split(prompt).Select(p => (p.Weight, Schedule: PromptSchedule.Build(p.Text, request.Steps))).ToList();
        var negative = PromptSchedule.Build(request.NegativePrompt, request.Steps);
        var texts = subPrompts.SelectMany(p => p.Schedule.Entries).Concat(negative.Entries).Select(e => e.Text).Distinct(StringComparer.Ordinal).ToList();
        var chunks = texts.Max(conditioner.ChunkCount);
        var encoded = new Dictionary<string, TextConditioning>(StringComparer.Ordinal);
        foreach (var text in texts)
        {
            encoded[text] = conditioner.EncodePrompt(text, chunks);
        }

        // SDXL replaces an empty negative prompt by zeros (diffusers' force_zeros_for_empty_prompt, A1111 too).
        var zeroNegative = xl && string.IsNullOrWhiteSpace(request.NegativePrompt) ? conditioner.Zeros(chunks, encoded.Values.First().Context.dtype, encoded.Values.First().Context.device) : null;

        var (width, height) = (request.Width!.Value, request.Height!.Value);
        var batch = request.BatchSize;
        var seed = request.Seed >= 0 ? request.Seed : Random.Shared.NextInt64(0, 4294967294L);
        var factor = TiledVae.DownscaleFactor(model.Vae);
        long[] latentShape = [batch, model.Unet.Config.InChannels, height / factor, width / factor];
        using var noiseSource = new SeededNoise(seed, batch);
        var noise = noiseSource.Initial(latentShape, ScalarType.Float32, CPU).to(device);
        var tiled = request.TiledVae ?? ((long)width * height > options.TiledVaeAbovePixels);

        Tensor? initLatents = null;
        if (request.InitImage is { } init)
        {
            using var resized = init.Width == width && init.Height == height ? init.Copy() : ImageResize.Resize(init, width, height);
            var pixels = ImageTensors.FromImage(resized).unsqueeze(0).to(vaeType, device);
            var distribution = tiled ? TiledVae.Encode(model.Vae, pixels) : model.Vae.Encode(pixels);
            // The distribution's mean (not a random sample) keeps img2img deterministic for a seed.
            initLatents = (distribution.Mean.to(ScalarType.Float32) * model.Vae.Config.ScalingFactor).expand(latentShape);
        }

        var plan = sampler.CreatePlan(request.Steps, initLatents is null ? 1.0 : request.Strength);
        var latents = sampler.PrepareLatents(plan, noise, initLatents);

        var unetTime = TimeSpan.Zero;
        var unetCalls = 0;
        var withUncond = request.CfgScale != 1.0 || subPrompts.Count > 1;
        Tensor Denoise(Tensor x, double timestep, int stepIndex)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var groups = new List<TextConditioning>();
            if (withUncond)
            {
                groups.Add(zeroNegative ?? encoded[negative.TextAt(stepIndex)]);
            }

            // A1111 picks the first schedule entry whose end step is at or after the current 0-based step.
            groups.AddRange(subPrompts.Select(p => encoded[p.Schedule.TextAt(stepIndex)]));
            var input = cat(Enumerable.Repeat(x, groups.Count).ToList(), 0).to(unetType);
            // SDXL micro-conditioning: the original size is the target size, no crop.
            var unetInputs = TextConditioner.ForUnet(TextConditioning.Batch(groups, batch), Enumerable.Repeat(SizeConditioning.Uncropped(width, height), (int)input.shape[0]).ToList(), unetType);
            var started = Stopwatch.GetTimestamp();
            // Controls see the same batch as the UNet; guess-mode ControlNets skip the unconditional rows.
            var residuals = controls.IsEmpty ? ControlResiduals.None
                : controls.Residuals(input, timestep, unetInputs, withUncond ? batch : 0, ControlGuidance.Fraction(stepIndex, plan, initLatents is not null));
            var output = model.Unet.forward(input, timestep, unetInputs.Context, unetInputs.Added, residuals.Down, residuals.Mid, residuals.Intrablock).to(ScalarType.Float32);
            if (device.type == TorchSharp.DeviceType.CUDA)
            {
                cuda.synchronize();
            }

            unetTime += Stopwatch.GetElapsedTime(started);
            unetCalls++;
            if (!withUncond)
            {
                return output;
            }

            // Composable diffusion (A1111): out = u + Σ w_k · s · (c_k − u); one plain prompt is ordinary CFG.
            var pieces = output.split(batch, 0);
            var uncond = pieces[0];
            var guided = uncond.clone();
            for (var k = 0; k < subPrompts.Count; k++)
            {
                guided = guided + ((pieces[k + 1] - uncond) * (subPrompts[k].Weight * request.CfgScale));
            }

            return guided;
        }

        var samplingStarted = Stopwatch.GetTimestamp();
        var final = sampler.Sample(plan, latents, Denoise, new SamplerRunOptions
        {
            Noise = noiseSource,
            CancellationToken = cancellationToken,
            Progress = p => progress?.Invoke(new GenerationProgress(p.Completed, p.Total)),
        });

        var sampling = Stopwatch.GetElapsedTime(samplingStarted);
        var images = new List<GeneratedImage>();
        for (var i = 0; i < batch; i++)
        {
            using var imageScope = NewDisposeScope();
            var latent = (final.narrow(0, i, 1) / model.Vae.Config.ScalingFactor).to(vaeType);
            var decoded = tiled ? TiledVae.Decode(model.Vae, latent) : model.Vae.Decode(latent);
            var bitmap = ImageTensors.ToBitmap(decoded[0].to(ScalarType.Float32).cpu());
            images.Add(new GeneratedImage(bitmap, seed + i, Infotext(request, seed + i, loraHashes, hypernets, controls.Infotext)));
        }

        return new GenerationResult(images, warnings, clock.Elapsed, sampling, unetTime, unetCalls);
    }

    private GenerationInfotext Infotext(GenerationRequest request, long seed, List<string> loraHashes, List<(string Name, double Strength)> hypernets, IReadOnlyList<string> controls)
    {
        var extra = new List<KeyValuePair<string, string>>();
        if (loraHashes.Count > 0)
        {
            extra.Add(new("Lora hashes", string.Join(", ", loraHashes)));
        }

        // Hypernetworks given outside the prompt (the prompt keeps its own tags), in A1111's older setting-style fields.
        if (hypernets.Count > 0)
        {
            extra.Add(new("Hypernet", string.Join(", ", hypernets.Select(h => h.Name))));
            extra.Add(new("Hypernet strength", string.Join(", ", hypernets.Select(h => h.Strength.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))));
        }

        // sd-webui-controlnet's units: ControlNet 0, ControlNet 1, ...
        extra.AddRange(controls.Select((unit, i) => new KeyValuePair<string, string>(ControlNetUnitInfotext.Key(i), unit)));
        extra.Add(new("Version", "SdTune"));
        return new GenerationInfotext
        {
            Prompt = request.Prompt,
            NegativePrompt = request.NegativePrompt,
            Steps = request.Steps,
            Sampler = SamplerRegistry.Resolve(request.Sampler),
            CfgScale = request.CfgScale,
            Seed = seed,
            Width = request.Width!.Value,
            Height = request.Height!.Value,
            ModelHash = options.ModelHash,
            ModelName = options.ModelName,
            ClipSkip = request.ClipSkip > 1 ? request.ClipSkip : null,
            DenoisingStrength = request.InitImage is null ? null : request.Strength,
            Extra = extra,
        };
    }

    // lbw=: a preset name of the block-weight extension or comma-separated numbers (LoraBlockWeightPresets).
    private static IReadOnlyList<double> ParseBlockWeights(string name, string text, SdArchitecture architecture)
    {
        try
        {
            return LoraBlockWeightPresets.Parse(text, architecture, $"<lora:{name}> lbw");
        }
        catch (ArgumentException e)
        {
            throw new PromptSyntaxException(e.Message);
        }
    }

    /// <summary>Ends a hold of LoRA files: frees them.</summary>
    private sealed class LoraHold(StableDiffusionPipeline pipeline) : IDisposable
    {
        public void Dispose() => pipeline.ReleaseLoras();
    }
}
