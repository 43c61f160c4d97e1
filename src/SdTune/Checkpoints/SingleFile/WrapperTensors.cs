using static TorchSharp.torch;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>
/// Tensors of the original checkpoints that are not weights of a diffusers model: the ldm <c>DDPM</c> noise-schedule
/// buffers (SD1/SD2), sgm's <c>denoiser.sigmas</c> (SDXL), OpenCLIP's <c>logit_scale</c>, CLIP's
/// <c>position_ids</c>. Recognised when reading and recomputed when writing, so a written file has the full original
/// key set. Values follow the schedule every SD family was trained with: scaled-linear betas from 0.00085 to 0.012
/// over 1000 steps (linspace of the square roots, squared), computed in double precision and stored as float32.
/// </summary>
internal static class WrapperTensors
{
    public const int TrainTimesteps = 1000;
    public const string DenoiserSigmas = "denoiser.sigmas";

    /// <summary>The 12 buffers ldm's <c>DDPM.register_schedule</c> stores, in registration order.</summary>
    public static readonly string[] ScheduleBuffers =
    [
        "betas", "alphas_cumprod", "alphas_cumprod_prev", "sqrt_alphas_cumprod", "sqrt_one_minus_alphas_cumprod",
        "log_one_minus_alphas_cumprod", "sqrt_recip_alphas_cumprod", "sqrt_recipm1_alphas_cumprod", "posterior_variance",
        "posterior_log_variance_clipped", "posterior_mean_coef1", "posterior_mean_coef2",
    ];

    /// <summary>
    /// Value written for a missing OpenCLIP <c>logit_scale</c>: ln(100), where OpenCLIP clamps the learned temperature
    /// and where the released models sit. Unused for image generation.
    /// </summary>
    public static readonly double DefaultLogitScale = Math.Log(100.0);

    /// <summary>Computes the value of a generated tensor from its target name and shape.</summary>
    public static Tensor Create(string name, IReadOnlyList<long> shape)
    {
        if (name.EndsWith("position_ids", StringComparison.Ordinal))
        {
            return arange(shape[^1], dtype: ScalarType.Int64).reshape([.. shape]);
        }

        if (name.EndsWith(OpenClipKeyMap.LogitScale, StringComparison.Ordinal))
        {
            return tensor((float)DefaultLogitScale);
        }

        if (name.EndsWith(OpenClipKeyMap.TextProjection, StringComparison.Ordinal))
        {
            // SD2 placeholder: the SD2 pipeline never applies the projection (it reads the penultimate layer).
            return eye(shape[0], shape[1], dtype: ScalarType.Float32);
        }

        var values = Schedule(name) ?? throw new InvalidOperationException($"no rule generates the tensor '{name}'");
        return tensor(values.Select(v => (float)v).ToArray()).reshape([.. shape]);
    }

    /// <summary>True when <paramref name="name"/> is a noise-schedule buffer of a wrapper class.</summary>
    public static bool IsScheduleBuffer(string name) => name == DenoiserSigmas || Array.IndexOf(ScheduleBuffers, name) >= 0;

    private static double[]? Schedule(string name)
    {
        var n = TrainTimesteps;
        var betas = new double[n];
        var (start, end) = (Math.Sqrt(0.00085), Math.Sqrt(0.012));
        for (var t = 0; t < n; t++)
        {
            var s = start + (end - start) * t / (n - 1);
            betas[t] = s * s;
        }

        var alphas = betas.Select(b => 1.0 - b).ToArray();
        var cumprod = new double[n];
        var product = 1.0;
        for (var t = 0; t < n; t++)
        {
            product *= alphas[t];
            cumprod[t] = product;
        }

        var previous = new double[n];
        previous[0] = 1.0;
        Array.Copy(cumprod, 0, previous, 1, n - 1);
        double[] Map(Func<int, double> f) => Enumerable.Range(0, n).Select(f).ToArray();

        // DDPM posterior q(x_{t-1} | x_t, x_0) (Ho et al. 2020, eq. 6-7), with ldm's v_posterior = 0.
        var posteriorVariance = Map(t => betas[t] * (1 - previous[t]) / (1 - cumprod[t]));
        return name switch
        {
            "betas" => betas,
            "alphas_cumprod" => cumprod,
            "alphas_cumprod_prev" => previous,
            "sqrt_alphas_cumprod" => Map(t => Math.Sqrt(cumprod[t])),
            "sqrt_one_minus_alphas_cumprod" => Map(t => Math.Sqrt(1 - cumprod[t])),
            "log_one_minus_alphas_cumprod" => Map(t => Math.Log(1 - cumprod[t])),
            "sqrt_recip_alphas_cumprod" => Map(t => Math.Sqrt(1 / cumprod[t])),
            "sqrt_recipm1_alphas_cumprod" => Map(t => Math.Sqrt(1 / cumprod[t] - 1)),
            "posterior_variance" => posteriorVariance,
            "posterior_log_variance_clipped" => Map(t => Math.Log(Math.Max(posteriorVariance[t], 1e-20))),
            "posterior_mean_coef1" => Map(t => betas[t] * Math.Sqrt(previous[t]) / (1 - cumprod[t])),
            "posterior_mean_coef2" => Map(t => (1 - previous[t]) * Math.Sqrt(alphas[t]) / (1 - cumprod[t])),
            DenoiserSigmas => Map(t => Math.Sqrt((1 - cumprod[t]) / cumprod[t])),
            _ => null,
        };
    }
}
