namespace SdTune.Schedulers;

/// <summary>
/// The small array routines diffusers builds its inference schedules with, reproduced with NumPy's exact float64
/// arithmetic (so a rounded timestep never lands on the other side of .5 from the reference).
/// </summary>
internal static class ScheduleMath
{
    /// <summary><c>np.linspace(start, stop, count)</c> (endpoint included): <c>i * ((stop - start)/(count - 1)) + start</c>, last value exactly <paramref name="stop"/>.</summary>
    public static double[] Linspace(double start, double stop, int count)
    {
        var result = new double[count];
        if (count == 1)
        {
            result[0] = start;
            return result;
        }

        var step = (stop - start) / (count - 1);
        for (var i = 0; i < count; i++)
        {
            result[i] = (i * step) + start;
        }

        result[^1] = stop;
        return result;
    }

    /// <summary>
    /// <c>np.arange(start, stop, step)</c> for floats: length ⌈(stop − start)/step⌉, values <c>start + i·delta</c> where
    /// delta is the rounded difference of the first two values (what NumPy's fill does).
    /// </summary>
    public static double[] Arange(double start, double stop, double step)
    {
        var length = (long)Math.Ceiling((stop - start) / step);
        if (length <= 0)
        {
            return [];
        }

        var result = new double[length];
        result[0] = start;
        if (length > 1)
        {
            result[1] = start + step;
            var delta = result[1] - result[0];
            for (var i = 2; i < length; i++)
            {
                result[i] = start + (i * delta);
            }
        }

        return result;
    }

    /// <summary>
    /// <c>torch.linspace(start, end, steps, dtype=torch.float32)</c> bit for bit as PyTorch's CPU kernel computes it on
    /// x86-64 (AVX2 build, the one diffusers' schedules were made with): float32 step (end − start)/(steps − 1); the
    /// first half counts up from start and the second half down from end, decided per 8-lane vector; lanes are
    /// <c>base + j·step</c>; the compiler fuses every multiply-add.
    /// </summary>
    public static float[] TorchLinspaceFloat32(double start, double end, int steps)
    {
        const int lanes = 8;
        var first = (float)start;
        var last = (float)end;
        var result = new float[steps];
        if (steps == 1)
        {
            result[0] = first;
            return result;
        }

        var step = (last - first) / (steps - 1);
        var halfway = steps / 2;
        float Scalar(int index) => index < halfway
            ? MathF.FusedMultiplyAdd(step, index, first)
            : MathF.FusedMultiplyAdd(-step, steps - index - 1, last);

        void Vector(int index)
        {
            var vectorBase = Scalar(index);
            result[index] = vectorBase;
            result[index + 1] = vectorBase + step;
            for (var j = 2; j < lanes; j++)
            {
                result[index + j] = MathF.FusedMultiplyAdd(j, step, vectorBase);
            }
        }

        // The vectorised loop takes two vectors per iteration while two fit; the rest is scalar.
        var i = 0;
        for (; i <= steps - (2 * lanes); i += 2 * lanes)
        {
            Vector(i);
            Vector(i + lanes);
        }

        for (; i < steps; i++)
        {
            result[i] = Scalar(i);
        }

        return result;
    }

    /// <summary>NumPy rounding: to nearest, halves to even.</summary>
    public static double Round(double value) => Math.Round(value, MidpointRounding.ToEven);

    /// <summary><c>np.interp(x, arange(len(table)), table)</c>: linear interpolation with the index as abscissa, clamped at both ends.</summary>
    public static double Interp(double x, IReadOnlyList<float> table)
    {
        var last = table.Count - 1;
        if (double.IsNaN(x))
        {
            return double.NaN;
        }

        if (x <= 0)
        {
            return table[0];
        }

        if (x >= last)
        {
            return table[last];
        }

        var j = (int)Math.Floor(x);
        if (j == x)
        {
            return table[j];
        }

        // NumPy: slope = (fp[j+1] − fp[j]) / (xp[j+1] − xp[j]), and the abscissae are one apart.
        var slope = (double)table[j + 1] - table[j];
        return (slope * (x - j)) + table[j];
    }

    /// <summary>
    /// diffusers' <c>_sigma_to_t</c>: the fractional training timestep whose log σ matches, by linear interpolation
    /// in the float32 table of log σ (ascending with t).
    /// </summary>
    public static double SigmaToTimestep(double sigma, float[] logSigmas)
    {
        var logSigma = Math.Log(Math.Max(sigma, 1e-10));

        // Index of the last table entry at or below log σ (0 if none), kept below the last entry.
        var low = 0;
        for (var i = 0; i < logSigmas.Length; i++)
        {
            if (logSigma - logSigmas[i] >= 0)
            {
                low = i;
            }
        }

        low = Math.Min(low, logSigmas.Length - 2);
        var high = low + 1;
        var lowValue = logSigmas[low];
        var highValue = logSigmas[high];

        // NumPy: (float32 - float64) is float64, (float32 - float32) stays float32.
        var w = (lowValue - logSigma) / (float)(lowValue - highValue);
        w = Math.Clamp(w, 0, 1);
        return ((1 - w) * low) + (w * high);
    }

    /// <summary>Karras et al. (2022) eq. 5 with ρ = 7: σ_i = (σ_max^{1/ρ} + i/(n−1)·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, descending, no trailing zero.</summary>
    public static double[] KarrasSigmas(double sigmaMin, double sigmaMax, int count)
    {
        const double rho = 7.0;
        var ramp = Linspace(0, 1, count);
        var minInvRho = Math.Pow(sigmaMin, 1 / rho);
        var maxInvRho = Math.Pow(sigmaMax, 1 / rho);
        var result = new double[count];
        for (var i = 0; i < count; i++)
        {
            result[i] = Math.Pow(maxInvRho + (ramp[i] * (minInvRho - maxInvRho)), rho);
        }

        return result;
    }

    /// <summary>
    /// The integer-valued timesteps of DDIM-style spacing (<c>set_timesteps</c> of DDIM and DPM-Solver), descending.
    /// </summary>
    /// <param name="spacing">The spacing rule.</param>
    /// <param name="steps">Number of values to produce.</param>
    /// <param name="trainTimesteps">T.</param>
    /// <param name="stepsOffset">Added under leading spacing.</param>
    /// <param name="extraPoint">
    /// DPM-Solver lays out <c>steps + 1</c> points for leading/linspace and drops the last (the one nearest 0).
    /// </param>
    public static double[] DiscreteTimesteps(TimestepSpacing spacing, int steps, int trainTimesteps, int stepsOffset, bool extraPoint = false)
    {
        var points = extraPoint ? steps + 1 : steps;
        double[] ascending;
        switch (spacing)
        {
            case TimestepSpacing.Linspace:
                ascending = Linspace(0, trainTimesteps - 1, points);
                for (var i = 0; i < points; i++)
                {
                    ascending[i] = Round(ascending[i]);
                }

                break;
            case TimestepSpacing.Leading:
                var ratio = trainTimesteps / points;
                ascending = new double[points];
                for (var i = 0; i < points; i++)
                {
                    ascending[i] = ((long)i * ratio) + stepsOffset;
                }

                break;
            case TimestepSpacing.Trailing:
                // Already descending: T, T − T/steps, … rounded, minus one.
                var trailing = Arange(trainTimesteps, 0, -(double)trainTimesteps / steps);
                return [.. trailing.Select(t => Round(t) - 1)];
            default:
                throw new ArgumentOutOfRangeException(nameof(spacing), spacing, "Unknown timestep spacing.");
        }

        // Descending, and without the extra point nearest 0.
        return [.. ascending.Reverse().Take(steps)];
    }
}
