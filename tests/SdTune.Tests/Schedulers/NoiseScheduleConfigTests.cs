using SdTune.IO;
using SdTune.Models;
using SdTune.Schedulers;

namespace SdTune.Tests.Schedulers;

public class NoiseScheduleConfigTests
{
    // Stable Diffusion 1.5's scheduler/scheduler_config.json (reference notes §2.5).
    private const string Sd15Json = """
        {"_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", "beta_end": 0.012, "beta_schedule": "scaled_linear",
         "beta_start": 0.00085, "num_train_timesteps": 1000, "set_alpha_to_one": false, "skip_prk_steps": true,
         "steps_offset": 1, "trained_betas": null, "clip_sample": false}
        """;

    [Fact]
    public void Stable_diffusion_15_config_reads_as_the_preset()
    {
        var config = NoiseScheduleConfig.FromJson(Sd15Json);
        Assert.Equal("PNDMScheduler", config.ClassName);
        Assert.Equal(NoiseScheduleConfig.StableDiffusion with { ClassName = "PNDMScheduler" }, config);
        Assert.Null(config.TimestepSpacing);
        Assert.Equal(PredictionType.Epsilon, config.PredictionType);
    }

    [Theory]
    [InlineData("DDPMScheduler", PredictionType.Epsilon, TimestepSpacing.Leading, 0)]
    [InlineData("ddim_vpred", PredictionType.VPrediction, TimestepSpacing.Leading, 1)]
    [InlineData("euler", PredictionType.Epsilon, TimestepSpacing.Linspace, 1)]
    [InlineData("dpmpp_2m_karras", PredictionType.Epsilon, TimestepSpacing.Linspace, 1)]
    public void Fixture_configs_read_their_fields(string caseName, PredictionType prediction, TimestepSpacing spacing, int offset)
    {
        var config = NoiseScheduleConfig.FromJson(SchedulerFixture.CaseConfigJson(caseName), caseName);
        Assert.Equal(prediction, config.PredictionType);
        Assert.Equal(spacing, config.TimestepSpacing);
        Assert.Equal(offset, config.StepsOffset);
        Assert.Equal(BetaSchedule.ScaledLinear, config.BetaSchedule);
        Assert.Equal(0.00085, config.BetaStart);
        Assert.Null(config.TrainedBetas);
    }

    [Fact]
    public void A_file_is_read_and_errors_name_it_and_the_field()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("scheduler_config.json");
        File.WriteAllText(path, Sd15Json.Replace("\"scaled_linear\"", "\"sigmoid\"", StringComparison.Ordinal));
        var error = Assert.Throws<CheckpointFormatException>(() => NoiseSchedule.FromConfigFile(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("'beta_schedule'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'sigmoid'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'squaredcos_cap_v2'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"prediction_type": "flow"}""", "'prediction_type'")]
    [InlineData("""{"timestep_spacing": "uniform"}""", "'timestep_spacing'")]
    [InlineData("""{"num_train_timesteps": "1000"}""", "'num_train_timesteps' must be an integer")]
    [InlineData("""{"num_train_timesteps": 1}""", "'num_train_timesteps' must be at least 2")]
    [InlineData("""{"beta_start": -0.1}""", "'beta_start'")]
    [InlineData("""{"beta_end": 1.5}""", "'beta_end'")]
    [InlineData("""{"steps_offset": -1}""", "'steps_offset'")]
    [InlineData("""{"set_alpha_to_one": "no"}""", "'set_alpha_to_one' must be true or false")]
    [InlineData("""{"num_train_timesteps": 3, "trained_betas": [0.1, 0.2]}""", "'trained_betas' has 2 values")]
    [InlineData("""{"num_train_timesteps": 2, "trained_betas": [0.1, "x"]}""", "'trained_betas[1]' must be a number")]
    [InlineData("""{"num_train_timesteps": 2, "trained_betas": [0.1, 0]}""", "'trained_betas' value 1")]
    [InlineData("""[1, 2]""", "expected a JSON object")]
    [InlineData("""{"beta_start": """, "not valid JSON")]
    public void Invalid_fields_are_reported_with_the_source_and_field(string json, string expected)
    {
        var error = Assert.Throws<CheckpointFormatException>(() => NoiseScheduleConfig.FromJson(json, "model/scheduler/scheduler_config.json"));
        Assert.StartsWith("model/scheduler/scheduler_config.json: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Linear_schedule_runs_from_beta_start_to_beta_end()
    {
        var schedule = new NoiseSchedule(new NoiseScheduleConfig { BetaSchedule = BetaSchedule.Linear, BetaStart = 0.0001, BetaEnd = 0.02 });
        Assert.Equal(0.0001f, schedule.Betas[0]);
        Assert.Equal(0.02f, schedule.Betas[^1]);
        Assert.Equal(0.0001 + (500.0 / 999 * (0.02 - 0.0001)), schedule.Betas[500], 7);
    }

    [Fact]
    public void Trained_betas_are_used_as_given()
    {
        var schedule = new NoiseSchedule(new NoiseScheduleConfig { NumTrainTimesteps = 3, TrainedBetas = [0.1, 0.2, 0.5] });
        Assert.Equal([0.1f, 0.2f, 0.5f], schedule.Betas);
        Assert.Equal(0.9f * 0.8f * 0.5f, schedule.AlphasCumprod[2], 6);
    }

    [Fact]
    public void Cosine_schedule_follows_the_squared_cosine_alpha_bar()
    {
        var schedule = new NoiseSchedule(new NoiseScheduleConfig { BetaSchedule = BetaSchedule.SquaredCosCapV2 });
        static double AlphaBar(double t) => Math.Pow(Math.Cos((t + 0.008) / 1.008 * Math.PI / 2), 2);
        for (var t = 0; t < 990; t += 97)
        {
            // ᾱ_t = Π β-factors = alpha_bar((t+1)/T) / alpha_bar(0) while no beta is capped.
            Assert.Equal(AlphaBar((t + 1) / 1000.0) / AlphaBar(0), schedule.AlphasCumprod[t], 5);
        }

        Assert.Equal(0.999f, schedule.Betas[^1]);
    }

    [Fact]
    public void Zero_terminal_snr_rescaling_ends_at_snr_zero_and_keeps_the_first_alpha()
    {
        var plain = new NoiseSchedule(NoiseScheduleConfig.StableDiffusion);
        var rescaled = new NoiseSchedule(NoiseScheduleConfig.StableDiffusion with { RescaleBetasZeroSnr = true });
        Assert.Equal(0f, rescaled.AlphasCumprod[^1]);
        Assert.Equal(plain.AlphasCumprod[0], rescaled.AlphasCumprod[0], 6);

        // k-samplers keep a finite top sigma: ᾱ taken as 2^-24 → σ = √(2^24 − 1) ≈ 4096.
        Assert.Equal(4096, rescaled.Sigmas[^1], 0);
        Assert.True(float.IsFinite(rescaled.Sigmas[^1]));
    }
}
