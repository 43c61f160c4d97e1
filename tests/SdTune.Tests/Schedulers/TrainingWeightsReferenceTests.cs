using SdTune.Models;
using SdTune.Schedulers;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Schedulers;

/// <summary>SNR, min-SNR-γ, kohya-ss weights and offset noise against training_weights.safetensors (README §6).</summary>
public class TrainingWeightsReferenceTests
{
    private const double Rtol = 1e-6;
    private static readonly NoiseSchedule Schedule = SchedulerFixture.Schedule("DDPMScheduler");

    [Theory]
    [InlineData("diffusers.snr", false)]
    [InlineData("diffusers.all_snr", true)]
    [InlineData("kohya.all_snr", true)]
    public void Snr_matches(string name, bool allTimesteps)
    {
        using var t = Timesteps(allTimesteps);
        using var expected = SchedulerFixture.ReadTraining(name);
        using var actual = Schedule.Snr(t);
        SchedulerFixture.AssertClose(expected, actual, 0, Rtol, name);
    }

    [Theory]
    [InlineData("diffusers.min_snr_gamma5_weight.epsilon", false, PredictionType.Epsilon)]
    [InlineData("diffusers.min_snr_gamma5_weight.v_prediction", false, PredictionType.VPrediction)]
    [InlineData("diffusers.all_min_snr_gamma5_weight.epsilon", true, PredictionType.Epsilon)]
    [InlineData("diffusers.all_min_snr_gamma5_weight.v_prediction", true, PredictionType.VPrediction)]
    [InlineData("kohya.min_snr_gamma5_weight.epsilon", false, PredictionType.Epsilon)]
    [InlineData("kohya.min_snr_gamma5_weight.v_prediction", false, PredictionType.VPrediction)]
    public void Min_snr_weights_match(string name, bool allTimesteps, PredictionType predictionType)
    {
        using var t = Timesteps(allTimesteps);
        using var expected = SchedulerFixture.ReadTraining(name);
        using var actual = Schedule.MinSnrWeights(t, 5.0, predictionType);
        SchedulerFixture.AssertClose(expected, actual, 0, Rtol, name);
    }

    [Theory]
    [InlineData("kohya.debiased_estimation.epsilon", PredictionType.Epsilon)]
    [InlineData("kohya.debiased_estimation.v_prediction", PredictionType.VPrediction)]
    public void Debiased_estimation_weights_match(string name, PredictionType predictionType)
    {
        using var t = Timesteps(false);
        using var expected = SchedulerFixture.ReadTraining(name);
        using var actual = Schedule.DebiasedEstimationWeights(t, predictionType);
        SchedulerFixture.AssertClose(expected, actual, 0, Rtol, name);
    }

    [Fact]
    public void V_prediction_loss_scale_matches()
    {
        using var t = Timesteps(false);
        using var expected = SchedulerFixture.ReadTraining("kohya.scale_v_pred_loss_like_noise_pred");
        using var actual = Schedule.VPredictionLossScale(t);
        SchedulerFixture.AssertClose(expected, actual, 0, Rtol, "kohya.scale_v_pred_loss_like_noise_pred");
    }

    [Fact]
    public void Min_snr_weight_without_a_prediction_type_uses_the_config()
    {
        using var t = Timesteps(false);
        using var expected = SchedulerFixture.ReadTraining("diffusers.min_snr_gamma5_weight.v_prediction");
        var vSchedule = SchedulerFixture.Schedule("ddim_vpred");
        using var actual = vSchedule.MinSnrWeights(t, 5.0);
        SchedulerFixture.AssertClose(expected, actual, 0, Rtol, "v-prediction from config");
        Assert.Throws<ArgumentOutOfRangeException>(() => Schedule.MinSnrWeights(t, 0));
    }

    [Fact]
    public void Offset_noise_on_the_stored_draws_matches()
    {
        using var baseNoise = SchedulerFixture.ReadTraining("offset_noise.base_noise");
        using var offset = SchedulerFixture.ReadTraining("offset_noise.offset_randn");
        using var expected = SchedulerFixture.ReadTraining("offset_noise.result");
        var strength = SchedulerFixture.ReadTraining("offset_noise.noise_offset").item<float>();
        using var actual = OffsetNoise.Apply(baseNoise, offset, strength);
        SchedulerFixture.AssertClose(expected, actual, 1e-7, Rtol, "offset_noise.result");
    }

    [Fact]
    public void Offset_noise_drawn_from_the_reference_seed_matches()
    {
        // The reference did torch.manual_seed(501), then randn_like(latents), then randn(B, C, 1, 1).
        using var generator = new torch.Generator(501);
        using var expected = SchedulerFixture.ReadTraining("offset_noise.result");
        using var actual = OffsetNoise.Sample(expected.shape, 0.1, generator);
        SchedulerFixture.AssertClose(expected, actual, 1e-7, Rtol, "offset_noise.result from seed 501");
    }

    [Fact]
    public void Adaptive_noise_offset_matches_kohya()
    {
        using var latents = SchedulerFixture.ReadTraining("kohya.apply_noise_offset.latents");
        using var baseNoise = SchedulerFixture.ReadTraining("kohya.apply_noise_offset.base_noise");
        using var offset = SchedulerFixture.ReadTraining("kohya.apply_noise_offset.offset_randn");
        using var expected = SchedulerFixture.ReadTraining("kohya.apply_noise_offset.result");
        var strength = SchedulerFixture.ReadTraining("kohya.apply_noise_offset.noise_offset").item<float>();
        var adaptive = SchedulerFixture.ReadTraining("kohya.apply_noise_offset.adaptive_noise_scale").item<float>();
        using var actual = OffsetNoise.ApplyAdaptive(latents, baseNoise, offset, strength, adaptive);
        SchedulerFixture.AssertClose(expected, actual, 1e-7, Rtol, "kohya.apply_noise_offset.result");
    }

    [Fact]
    public void Offset_draws_of_the_wrong_shape_are_refused()
    {
        using var noise = zeros(2, 4, 8, 8);
        using var offset = zeros(2, 4, 8, 1);
        var error = Assert.Throws<ArgumentException>(() => OffsetNoise.Apply(noise, offset, 0.1));
        Assert.Contains("(B, C, 1, 1)", error.Message, StringComparison.Ordinal);
    }

    private static Tensor Timesteps(bool all) =>
        all ? arange(0, 1000, dtype: ScalarType.Int64) : SchedulerFixture.ReadTraining("minsnr.timesteps");
}
