using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Schedulers;

/// <summary>
/// The loop every sampler shares: per step, scale the input, call the model, take the sampler's update, report
/// progress. Each step runs in its own dispose scope and only the new latents leave it, so memory stays flat.
/// The running latents are float32 whatever the caller's dtype.
/// </summary>
internal static class SamplingLoop
{
    /// <summary>A sampler's update: from the latents and the model output at plan step <c>index</c>, the next latents and the x₀ estimate.</summary>
    public delegate (Tensor Next, Tensor Denoised) Update(int index, Tensor latents, Tensor modelOutput);

    /// <summary>Checks that a plan was made by this sampler.</summary>
    public static void CheckPlan(ISampler sampler, SamplingPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.SamplerName != sampler.Name)
        {
            throw new ArgumentException($"The plan was made by the '{plan.SamplerName}' sampler and cannot run on '{sampler.Name}'; create it with this sampler.", nameof(plan));
        }
    }

    /// <summary>Checks the inputs of <see cref="ISampler.PrepareLatents"/>: noise of the latents' shape, init latents for an img2img plan.</summary>
    public static void CheckPrepareInputs(SamplingPlan plan, Tensor noise, Tensor? initLatents)
    {
        ArgumentNullException.ThrowIfNull(noise);
        if (initLatents is null && plan.StartIndex > 0)
        {
            throw new ArgumentException(
                $"The plan starts at step {plan.StartIndex} of {plan.StepCount} (img2img strength < 1) and needs the init image's latents.", nameof(initLatents));
        }

        if (initLatents is not null && !initLatents.shape.SequenceEqual(noise.shape))
        {
            throw new ArgumentException(
                $"The noise has shape [{string.Join(", ", noise.shape)}] but the init latents have [{string.Join(", ", initLatents.shape)}].", nameof(noise));
        }
    }

    public static Tensor Run(
        ISampler sampler,
        SamplingPlan plan,
        Tensor latents,
        Denoiser denoise,
        SamplerRunOptions? options,
        Func<Tensor, int, Tensor> scaleModelInput,
        Update update)
    {
        CheckPlan(sampler, plan);
        ArgumentNullException.ThrowIfNull(latents);
        ArgumentNullException.ThrowIfNull(denoise);
        options ??= new SamplerRunOptions();

        using var noGrad = torch.no_grad();
        var resultType = latents.dtype;
        var x = latents;
        var owned = false;
        try
        {
            if (x.dtype != ScalarType.Float32)
            {
                x = x.to(ScalarType.Float32);
                owned = true;
            }

            var total = plan.EndIndex - plan.StartIndex;
            for (var i = plan.StartIndex; i < plan.EndIndex; i++)
            {
                options.CancellationToken.ThrowIfCancellationRequested();
                Tensor next;
                using (var scope = NewDisposeScope())
                {
                    var modelInput = scaleModelInput(x, i);
                    var output = denoise(modelInput, plan.Timesteps[i], i)
                        ?? throw new InvalidOperationException($"The denoiser returned null at step {i}.");
                    if (!output.shape.SequenceEqual(x.shape))
                    {
                        throw new InvalidOperationException(
                            $"The denoiser returned shape [{string.Join(", ", output.shape)}] at step {i}; the latents have [{string.Join(", ", x.shape)}].");
                    }

                    var (stepped, denoised) = update(i, x, output.to(ScalarType.Float32));
                    options.Progress?.Invoke(new SamplerProgress(i, i - plan.StartIndex + 1, total, plan.Timesteps[i], stepped, denoised));
                    next = stepped.MoveToOuterDisposeScope();
                }

                if (owned)
                {
                    x.Dispose();
                }

                x = next;
                owned = true;
            }

            if (resultType != ScalarType.Float32)
            {
                var converted = x.to(resultType);
                x.Dispose();
                x = converted;
            }

            return x;
        }
        catch
        {
            if (owned)
            {
                x.Dispose();
            }

            throw;
        }
    }

    /// <summary>The noise source a stochastic sampler needs, or a clear error.</summary>
    public static INoiseSource RequireNoise(SamplerRunOptions? options, string samplerName) =>
        options?.Noise ?? throw new InvalidOperationException(
            $"The '{samplerName}' sampler draws fresh noise every step; pass a noise source (SamplerRunOptions.Noise, e.g. the SeededNoise of the initial latents).");
}
