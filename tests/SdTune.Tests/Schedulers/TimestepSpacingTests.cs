using SdTune.Schedulers;

namespace SdTune.Tests.Schedulers;

/// <summary>
/// Timestep spacings against values worked out by hand from the documented rules (diffusers' set_timesteps; Lin et
/// al. 2023, table 2), for cases the reference fixture does not cover.
/// </summary>
public class TimestepSpacingTests
{
    private static readonly NoiseSchedule Sd = new(NoiseScheduleConfig.StableDiffusion);

    [Fact]
    public void Ddim_leading_with_steps_offset_one_ends_at_one()
    {
        // Reference notes §4.2: 50 steps → 981, 961, …, 1.
        var plan = new DdimSampler(Sd, spacing: TimestepSpacing.Leading).CreatePlan(50);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => 981.0 - (20 * i)), plan.Timesteps);
    }

    [Fact]
    public void Ddim_trailing_starts_at_the_last_training_timestep()
    {
        var plan = new DdimSampler(Sd, spacing: TimestepSpacing.Trailing).CreatePlan(20);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => 999.0 - (50 * i)), plan.Timesteps);
    }

    [Fact]
    public void Ddim_linspace_rounds_evenly_spaced_values()
    {
        var plan = new DdimSampler(Sd, spacing: TimestepSpacing.Linspace).CreatePlan(20);

        // 999·i/19 has fractional part k/19, never one half, so plain rounding is unambiguous.
        Assert.Equal(Enumerable.Range(0, 20).Reverse().Select(i => Math.Round(999.0 * i / 19)), plan.Timesteps);
    }

    [Fact]
    public void Ddim_trailing_with_a_step_count_that_does_not_divide_t_uses_rounded_fractional_strides()
    {
        // 1000/30 = 33.33…: 1000 - 33.33·i rounded, minus one.
        var plan = new DdimSampler(Sd, spacing: TimestepSpacing.Trailing).CreatePlan(30);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => Math.Round(1000 - (1000.0 * i / 30)) - 1), plan.Timesteps);
    }

    [Fact]
    public void Euler_trailing_timesteps_are_integers_and_sigmas_are_the_table_values()
    {
        var plan = new EulerSampler(Sd, TimestepSpacing.Trailing).CreatePlan(10);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 999.0 - (100 * i)), plan.Timesteps);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(Sd.Sigmas[(int)plan.Timesteps[i]], (float)plan.Sigmas[i]);
        }

        Assert.Equal(0.0, plan.Sigmas[^1]);
        Assert.Equal(Sd.Sigmas[999], (float)plan.InitNoiseSigma);
    }

    [Fact]
    public void Euler_leading_init_noise_sigma_includes_the_unit_variance()
    {
        var plan = new EulerSampler(Sd, TimestepSpacing.Leading).CreatePlan(10);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 901.0 - (100 * i)), plan.Timesteps);
        var sigmaMax = plan.Sigmas[0];
        Assert.Equal(Math.Sqrt((sigmaMax * sigmaMax) + 1), plan.InitNoiseSigma, 5);
    }

    [Fact]
    public void Dpm_solver_leading_lays_out_one_extra_point_and_drops_it()
    {
        // step ratio 1000 // 11 = 90: 900, 810, …, 90 (0 dropped), plus steps_offset 1.
        var plan = new DpmPlusPlus2MSampler(Sd, karras: false, TimestepSpacing.Leading).CreatePlan(10);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 901.0 - (90 * i)), plan.Timesteps);
    }

    [Fact]
    public void Dpm_solver_trailing_matches_ddim_trailing()
    {
        var plan = new DpmPlusPlus2MSampler(Sd, karras: false, TimestepSpacing.Trailing).CreatePlan(20);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => 999.0 - (50 * i)), plan.Timesteps);
    }

    [Fact]
    public void Karras_sigmas_follow_the_rho_7_formula_between_the_table_extremes()
    {
        var plan = new DpmPlusPlus2MSampler(Sd, karras: true).CreatePlan(10);
        var min = Math.Pow(Sd.Sigmas[0], 1 / 7.0);
        var max = Math.Pow(Sd.Sigmas[^1], 1 / 7.0);
        for (var i = 0; i < 10; i++)
        {
            var expected = Math.Pow(max + (i / 9.0 * (min - max)), 7);
            Assert.Equal(expected, plan.Sigmas[i], expected * 1e-6);
        }

        Assert.Equal(0.0, plan.Sigmas[10]);
        Assert.Equal(999, plan.Timesteps[0]);
        Assert.Equal(0, plan.Timesteps[^1]);
    }

    [Fact]
    public void Spacing_comes_from_the_config_when_not_given()
    {
        var leading = new NoiseSchedule(NoiseScheduleConfig.StableDiffusion with { TimestepSpacing = TimestepSpacing.Trailing });
        Assert.Equal(TimestepSpacing.Trailing, new EulerSampler(leading).Spacing);
        Assert.Equal(TimestepSpacing.Trailing, new DdimSampler(leading).Spacing);
        Assert.Equal(TimestepSpacing.Linspace, new EulerSampler(Sd).Spacing);
        Assert.Equal(TimestepSpacing.Leading, new DdimSampler(Sd).Spacing);
        Assert.Equal(TimestepSpacing.Linspace, new DpmPlusPlus2MSampler(Sd, karras: false).Spacing);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public void Step_counts_outside_the_training_range_are_refused(int steps)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DdimSampler(Sd).CreatePlan(steps));
        Assert.Contains("[1, 1000]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Leading_spacing_that_would_pass_the_last_timestep_is_refused()
    {
        // 1000 steps, leading, steps_offset 1: the first timestep would be 1000.
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DdimSampler(Sd).CreatePlan(1000));
        Assert.Contains("1000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_single_step_follows_diffusers_numpy_rules()
    {
        // np.linspace(0, 999, 1) is [0]; leading gives 0 + steps_offset.
        var plan = new EulerSampler(Sd).CreatePlan(1);
        Assert.Equal([0.0], plan.Timesteps);
        var ddim = new DdimSampler(Sd).CreatePlan(1);
        Assert.Equal([1.0], ddim.Timesteps);
    }
}
