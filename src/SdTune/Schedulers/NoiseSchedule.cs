using SdTune.IO;
using SdTune.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Schedulers;

/// <summary>
/// The discrete training noise schedule of a diffusion model: betas, ᾱ (cumulative product of 1 − β), the
/// forward process used in training (<see cref="AddNoise"/>, <see cref="GetVelocity"/>) and the per-timestep loss
/// weights derived from the signal-to-noise ratio (min-SNR-γ, debiased estimation). The tables are float32 and
/// computed exactly as diffusers computes them, so timesteps index the same values.
/// </summary>
/// <remarks>The schedule holds only managed arrays; methods that return tensors put them on the timesteps' device.</remarks>
public sealed class NoiseSchedule
{
    // kohya-ss and diffusers cap the SNR at 1000 for the debiased/v-scale weights (SNR is huge near t = 0).
    private const float SnrCap = 1000f;

    // What diffusers' k-samplers put in place of ᾱ = 0 (zero terminal SNR) so the last sigma stays finite.
    private const float ZeroSnrAlphaCumprod = 1f / (1 << 24);

    private readonly float[] betas;
    private readonly float[] alphasCumprod;
    private readonly float[] snr;
    private readonly float[] sigmas;

    /// <summary>Builds the schedule a config describes.</summary>
    /// <param name="config">The scheduler config (betas, timesteps, prediction type).</param>
    /// <exception cref="ArgumentException">The config is invalid; the message names the field.</exception>
    public NoiseSchedule(NoiseScheduleConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;

        betas = ComputeBetas(config);
        if (config.RescaleBetasZeroSnr)
        {
            betas = RescaleToZeroTerminalSnr(betas);
        }

        alphasCumprod = CumulativeAlphaProduct(betas);
        snr = new float[alphasCumprod.Length];
        sigmas = new float[alphasCumprod.Length];
        for (var t = 0; t < alphasCumprod.Length; t++)
        {
            var alphaBar = alphasCumprod[t];
            var ratio = MathF.Sqrt(alphaBar) / MathF.Sqrt(1f - alphaBar);
            snr[t] = ratio * ratio;

            var sigmaAlphaBar = config.RescaleBetasZeroSnr && t == alphasCumprod.Length - 1 ? ZeroSnrAlphaCumprod : alphaBar;
            sigmas[t] = MathF.Sqrt((1f - sigmaAlphaBar) / sigmaAlphaBar);
        }
    }

    /// <summary>The config the schedule was built from.</summary>
    public NoiseScheduleConfig Config { get; }

    /// <summary>Number of training timesteps T; valid timesteps are 0 … T − 1.</summary>
    public int NumTrainTimesteps => Config.NumTrainTimesteps;

    /// <summary>What the model trained on this schedule predicts.</summary>
    public PredictionType PredictionType => Config.PredictionType;

    /// <summary>β for every training timestep (float32).</summary>
    public IReadOnlyList<float> Betas => betas;

    /// <summary>ᾱ_t = Π_{s≤t} (1 − β_s) for every training timestep (float32).</summary>
    public IReadOnlyList<float> AlphasCumprod => alphasCumprod;

    /// <summary>
    /// The k-diffusion noise level σ_t = √((1 − ᾱ_t)/ᾱ_t) of every training timestep (float32), the table the
    /// Euler and DPM-Solver samplers interpolate. Under zero terminal SNR the last ᾱ is taken as 2⁻²⁴, as diffusers does.
    /// </summary>
    public IReadOnlyList<float> Sigmas => sigmas;

    /// <summary>Reads a diffusers <c>scheduler_config.json</c> and builds its schedule.</summary>
    /// <exception cref="CheckpointFormatException">The file is malformed; the message names the file and field.</exception>
    public static NoiseSchedule FromConfigFile(string path) => new(NoiseScheduleConfig.FromJsonFile(path));

    /// <summary>The forward process q(x_t | x₀): √ᾱ_t·x₀ + √(1 − ᾱ_t)·noise, per sample.</summary>
    /// <param name="originalSamples">Clean latents x₀, batch first.</param>
    /// <param name="noise">Noise of the same shape.</param>
    /// <param name="timesteps">Integer timesteps, one per sample (or one for all).</param>
    /// <exception cref="ArgumentException">Shapes disagree, or a timestep is not an integer in [0, T).</exception>
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps)
    {
        CheckSameShape(originalSamples, noise, nameof(noise));
        using var scope = NewDisposeScope();
        var (signal, noiseScale) = Coefficients(timesteps, originalSamples);
        return (signal * originalSamples + noiseScale * noise).MoveToOuterDisposeScope();
    }

    /// <summary>The v-prediction target: √ᾱ_t·noise − √(1 − ᾱ_t)·x₀, per sample.</summary>
    /// <param name="originalSamples">Clean latents x₀, batch first.</param>
    /// <param name="noise">Noise of the same shape.</param>
    /// <param name="timesteps">Integer timesteps, one per sample (or one for all).</param>
    /// <exception cref="ArgumentException">Shapes disagree, or a timestep is not an integer in [0, T).</exception>
    public Tensor GetVelocity(Tensor originalSamples, Tensor noise, Tensor timesteps)
    {
        CheckSameShape(originalSamples, noise, nameof(noise));
        using var scope = NewDisposeScope();
        var (signal, noiseScale) = Coefficients(timesteps, originalSamples);
        return (signal * noise - noiseScale * originalSamples).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// What a model of the given prediction type is trained to output: the noise (ε), the velocity (v) or x₀.
    /// </summary>
    /// <param name="originalSamples">Clean latents x₀.</param>
    /// <param name="noise">The noise added by <see cref="AddNoise"/>.</param>
    /// <param name="timesteps">Integer timesteps, one per sample.</param>
    /// <param name="predictionType">The model's prediction type; null takes the config's.</param>
    public Tensor TrainingTarget(Tensor originalSamples, Tensor noise, Tensor timesteps, PredictionType? predictionType = null)
    {
        ArgumentNullException.ThrowIfNull(originalSamples);
        ArgumentNullException.ThrowIfNull(noise);
        return (predictionType ?? PredictionType) switch
        {
            PredictionType.Epsilon => noise.clone(),
            PredictionType.VPrediction => GetVelocity(originalSamples, noise, timesteps),
            PredictionType.Sample => originalSamples.clone(),
            var other => throw new ArgumentOutOfRangeException(nameof(predictionType), other, "Unknown prediction type."),
        };
    }

    /// <summary>Signal-to-noise ratio ᾱ_t / (1 − ᾱ_t) at each timestep (float32, diffusers' <c>compute_snr</c>).</summary>
    /// <param name="timesteps">Integer timesteps.</param>
    /// <exception cref="ArgumentException">A timestep is not an integer in [0, T).</exception>
    public Tensor Snr(Tensor timesteps) => Gather(snr, timesteps, nameof(timesteps));

    /// <summary>
    /// Min-SNR-γ loss weights (Hang et al. 2023): ε-prediction min(SNR, γ)/SNR, v-prediction
    /// min(SNR, γ)/(SNR + 1) (diffusers' training scripts since PR #6307 and kohya-ss <c>apply_snr_weight</c>),
    /// x₀-prediction min(SNR, γ). Multiply the per-sample loss by them.
    /// </summary>
    /// <param name="timesteps">Integer timesteps, one per sample.</param>
    /// <param name="gamma">γ (5 is the paper's recommendation).</param>
    /// <param name="predictionType">The model's prediction type; null takes the config's.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gamma"/> is not positive.</exception>
    public Tensor MinSnrWeights(Tensor timesteps, double gamma, PredictionType? predictionType = null)
    {
        if (!(gamma > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "The min-SNR gamma must be positive (5 is usual).");
        }

        using var scope = NewDisposeScope();
        var s = Snr(timesteps);
        var clipped = s.clamp_max(gamma);
        var weights = (predictionType ?? PredictionType) switch
        {
            PredictionType.Epsilon => clipped / s,
            PredictionType.VPrediction => clipped / (s + 1),
            PredictionType.Sample => clipped,
            var other => throw new ArgumentOutOfRangeException(nameof(predictionType), other, "Unknown prediction type."),
        };
        return weights.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// kohya-ss "debiased estimation" loss weights (<c>apply_debiased_estimation</c>): 1/√SNR for ε-prediction,
    /// 1/(SNR + 1) for v-prediction, with SNR capped at 1000.
    /// </summary>
    /// <param name="timesteps">Integer timesteps, one per sample.</param>
    /// <param name="predictionType">The model's prediction type; null takes the config's. x₀-prediction is not defined.</param>
    public Tensor DebiasedEstimationWeights(Tensor timesteps, PredictionType? predictionType = null)
    {
        using var scope = NewDisposeScope();
        var s = Snr(timesteps).clamp_max(SnrCap);
        var weights = (predictionType ?? PredictionType) switch
        {
            PredictionType.Epsilon => 1 / s.sqrt(),
            PredictionType.VPrediction => 1 / (s + 1),
            var other => throw new ArgumentOutOfRangeException(nameof(predictionType), other, "Debiased estimation is defined for epsilon and v_prediction models only."),
        };
        return weights.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// kohya-ss <c>scale_v_prediction_loss_like_noise_pred</c>: SNR/(SNR + 1) with SNR capped at 1000, which turns a
    /// v-prediction loss into the scale of an ε-prediction loss.
    /// </summary>
    /// <param name="timesteps">Integer timesteps, one per sample.</param>
    public Tensor VPredictionLossScale(Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var s = Snr(timesteps).clamp_max(SnrCap);
        return (s / (s + 1)).MoveToOuterDisposeScope();
    }

    /// <summary>ᾱ at one integer timestep; <paramref name="timestep"/> must lie in [0, T).</summary>
    internal float AlphaCumprodAt(int timestep) => alphasCumprod[timestep];

    private (Tensor Signal, Tensor NoiseScale) Coefficients(Tensor timesteps, Tensor like)
    {
        var alphaBar = Gather(alphasCumprod, timesteps, nameof(timesteps));
        var shape = new long[like.dim()];
        Array.Fill(shape, 1L);
        shape[0] = alphaBar.numel() == 1 ? 1 : like.shape[0];
        if (alphaBar.numel() != 1 && (like.dim() == 0 || alphaBar.numel() != like.shape[0]))
        {
            throw new ArgumentException(
                $"{nameof(timesteps)} has {alphaBar.numel()} values but the samples have a batch of {(like.dim() == 0 ? 0 : like.shape[0])}; give one timestep per sample.",
                nameof(timesteps));
        }

        // diffusers casts ᾱ to the samples' dtype before the square roots.
        alphaBar = alphaBar.to(like.dtype).reshape(shape);
        return (alphaBar.sqrt(), (1 - alphaBar).sqrt());
    }

    private Tensor Gather(float[] table, Tensor timesteps, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(timesteps, parameterName);
        if (timesteps.dtype is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64 or ScalarType.Bool
            or ScalarType.ComplexFloat32 or ScalarType.ComplexFloat64)
        {
            throw new ArgumentException($"{parameterName} must hold integer timesteps, found dtype {timesteps.dtype}.", parameterName);
        }

        using var scope = NewDisposeScope();
        var flat = timesteps.flatten().to(ScalarType.Int64);
        if (flat.numel() == 0)
        {
            throw new ArgumentException($"{parameterName} is empty.", parameterName);
        }

        var lowest = flat.min().item<long>();
        var highest = flat.max().item<long>();
        if (lowest < 0 || highest >= table.Length)
        {
            throw new ArgumentException(
                $"{parameterName} must lie in [0, {table.Length}), found values from {lowest} to {highest}.", parameterName);
        }

        var values = torch.tensor(table, dtype: ScalarType.Float32, device: timesteps.device);
        return values.index_select(0, flat).reshape(timesteps.shape).MoveToOuterDisposeScope();
    }

    private static void CheckSameShape(Tensor samples, Tensor other, string otherName)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(other, otherName);
        if (!samples.shape.SequenceEqual(other.shape))
        {
            throw new ArgumentException(
                $"{otherName} has shape [{string.Join(", ", other.shape)}] but the samples have [{string.Join(", ", samples.shape)}].", otherName);
        }
    }

    /// <summary>The betas in float32, as diffusers computes them (<c>torch.linspace(..., dtype=float32)</c>, squared for scaled_linear).</summary>
    private static float[] ComputeBetas(NoiseScheduleConfig config)
    {
        var count = config.NumTrainTimesteps;
        if (config.TrainedBetas is { } trained)
        {
            return [.. trained.Select(b => (float)b)];
        }

        return config.BetaSchedule switch
        {
            BetaSchedule.Linear => ScheduleMath.TorchLinspaceFloat32(config.BetaStart, config.BetaEnd, count),
            BetaSchedule.ScaledLinear => [.. ScheduleMath.TorchLinspaceFloat32(Math.Sqrt(config.BetaStart), Math.Sqrt(config.BetaEnd), count).Select(r => r * r)],
            BetaSchedule.SquaredCosCapV2 => [.. CosineBetas(count).Select(b => (float)b)],
            var other => throw new ArgumentOutOfRangeException(nameof(config), other, "Unknown beta schedule."),
        };
    }

    /// <summary>ᾱ_t = Π(1 − β): float32 factors multiplied in a double accumulator, each prefix rounded to float32 (torch's CPU <c>cumprod</c>).</summary>
    private static float[] CumulativeAlphaProduct(float[] betas)
    {
        var result = new float[betas.Length];
        var product = 1.0;
        for (var t = 0; t < betas.Length; t++)
        {
            product *= 1f - betas[t];
            result[t] = (float)product;
        }

        return result;
    }

    /// <summary>Nichol &amp; Dhariwal's cosine schedule: β_i = min(1 − ᾱ(t_{i+1})/ᾱ(t_i), 0.999), ᾱ(t) = cos²((t + 0.008)/1.008 · π/2).</summary>
    private static double[] CosineBetas(int count)
    {
        static double AlphaBar(double t)
        {
            var c = Math.Cos((t + 0.008) / 1.008 * Math.PI / 2);
            return c * c;
        }

        var result = new double[count];
        for (var i = 0; i < count; i++)
        {
            var t1 = (double)i / count;
            var t2 = (double)(i + 1) / count;
            result[i] = Math.Min(1 - (AlphaBar(t2) / AlphaBar(t1)), 0.999);
        }

        return result;
    }

    /// <summary>
    /// Lin et al. 2023, algorithm 1 (float32): shift and scale √ᾱ so the last timestep has SNR 0 while the first keeps
    /// its value, then recover the betas.
    /// </summary>
    private static float[] RescaleToZeroTerminalSnr(float[] betas)
    {
        var alphaBarSqrt = CumulativeAlphaProduct(betas).Select(MathF.Sqrt).ToArray();
        var first = alphaBarSqrt[0];
        var last = alphaBarSqrt[^1];
        var scale = first / (first - last);
        var alphaBar = alphaBarSqrt.Select(a => (a - last) * scale).Select(a => a * a).ToArray();
        var result = new float[betas.Length];
        result[0] = 1f - alphaBar[0];
        for (var t = 1; t < betas.Length; t++)
        {
            result[t] = 1f - (alphaBar[t] / alphaBar[t - 1]);
        }

        return result;
    }
}
