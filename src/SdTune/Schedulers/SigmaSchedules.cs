namespace SdTune.Schedulers;

/// <summary>How diffusers' Euler-family and DPM-Solver schedulers lay out timesteps and sigmas in <c>set_timesteps</c>.</summary>
internal static class SigmaSchedules
{
    /// <summary>Checks a requested step count against the schedule.</summary>
    public static void CheckSteps(int steps, NoiseSchedule schedule)
    {
        if (steps < 1 || steps > schedule.NumTrainTimesteps)
        {
            throw new ArgumentOutOfRangeException(
                nameof(steps), steps, $"The number of inference steps must lie in [1, {schedule.NumTrainTimesteps}] (the training timesteps).");
        }
    }

    /// <summary>Checks that integer timesteps exist in the training schedule.</summary>
    public static void CheckTimesteps(double[] timesteps, int steps, NoiseSchedule schedule, TimestepSpacing spacing)
    {
        if (timesteps.Length != steps)
        {
            throw new ArgumentOutOfRangeException(
                nameof(steps), steps, $"{spacing} spacing yields {timesteps.Length} timesteps for {steps} steps; choose a step count that divides {schedule.NumTrainTimesteps} or another spacing.");
        }

        foreach (var t in timesteps)
        {
            if (t < 0 || t > schedule.NumTrainTimesteps - 1)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(steps), steps, $"{spacing} spacing with steps_offset {schedule.Config.StepsOffset} yields timestep {t}, outside [0, {schedule.NumTrainTimesteps - 1}].");
            }
        }
    }

    /// <summary>
    /// Euler timesteps: linspace unrounded, leading and trailing rounded; <paramref name="float32"/> rounds them to
    /// float32 (<c>EulerDiscreteScheduler</c>) or keeps float64 (<c>EulerAncestralDiscreteScheduler</c>).
    /// </summary>
    public static double[] EulerTimesteps(TimestepSpacing spacing, int steps, NoiseSchedule schedule, bool float32)
    {
        var count = schedule.NumTrainTimesteps;
        double[] timesteps = spacing switch
        {
            TimestepSpacing.Linspace => [.. ScheduleMath.Linspace(0, count - 1, steps).Reverse()],
            _ => ScheduleMath.DiscreteTimesteps(spacing, steps, count, schedule.Config.StepsOffset),
        };

        if (float32)
        {
            for (var i = 0; i < timesteps.Length; i++)
            {
                timesteps[i] = (float)timesteps[i];
            }
        }

        return timesteps;
    }

    /// <summary>σ at each (possibly fractional) timestep by linear interpolation in the training table, then a final 0; float32 values.</summary>
    public static double[] InterpolatedSigmas(double[] timesteps, NoiseSchedule schedule)
    {
        var sigmas = new double[timesteps.Length + 1];
        for (var i = 0; i < timesteps.Length; i++)
        {
            sigmas[i] = (float)ScheduleMath.Interp(timesteps[i], schedule.Sigmas);
        }

        return sigmas;
    }

    /// <summary>
    /// Euler's <c>init_noise_sigma</c> (float32 arithmetic): σ_max for linspace/trailing spacing, √(σ_max² + 1) for leading.
    /// </summary>
    public static double EulerInitNoiseSigma(double[] sigmas, TimestepSpacing spacing)
    {
        var max = (float)sigmas.Max();
        return spacing == TimestepSpacing.Leading ? MathF.Sqrt((max * max) + 1f) : max;
    }

    /// <summary>The float32 log σ table <c>_sigma_to_t</c> interpolates in.</summary>
    public static float[] LogSigmas(NoiseSchedule schedule) => [.. schedule.Sigmas.Select(s => MathF.Log(s))];
}
