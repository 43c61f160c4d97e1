using SdTune.Checkpoints.Control;
using SdTune.IO;
using SdTune.Models.Control;
using SdTune.ToyWorld.Pretraining;
using SdTune.Training;
using SdTune.Training.Methods;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Methods;

/// <summary><c>t2i-adapter</c>: a T2I-Adapter trained through the one loop on the tiny model.</summary>
public sealed class T2IAdapterTrainingTests
{
    [Fact]
    public void Cubic_timesteps_average_three_quarters_of_the_schedule()
    {
        using var generator = new Generator(11);
        using var t = TimestepSampling.Cubic(200_000, 1000, generator, CPU);
        Assert.Equal(ScalarType.Int64, t.dtype);
        Assert.InRange(t.min().item<long>(), 0, 5);
        Assert.Equal(999, t.max().item<long>());
        Assert.InRange(t.to(ScalarType.Float64).mean().item<double>() / 1000, 0.745, 0.752);

        // Half of them lie above (1 - 0.5^3) T = 875.
        Assert.InRange((t >= 875).to(ScalarType.Float64).mean().item<double>(), 0.49, 0.51);
    }

    [Fact]
    public void The_adapter_trains_the_base_model_stays_and_the_folder_loads_back()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinyModel();
        var config = ControlTrainingKit.ControlNetConfig(dir.Path, steps: 2, method: "t2i-adapter") with { LearningRate = 1e-2 };
        var result = TrainingTestKit.RunKeepingBase(config, model, withVae: true);
        using var adapter = T2IAdapterFiles.LoadFolder(result.Outputs[^1]);
        Assert.Equal("full_adapter", adapter.Config.AdapterType);
        Assert.Equal(model.Unet.Config.BlockOutChannels, adapter.Config.Channels);
        Assert.Equal(2, adapter.Config.DownscaleFactor);
        adapter.EnsureFits(model.Unet.Config, result.Outputs[^1]);
        Assert.All(result.LossHistory, l => Assert.True(double.IsFinite(l)));
    }

    [Fact]
    public void A_resumed_run_equals_the_uninterrupted_one_bit_for_bit()
    {
        using var dir = TestPaths.NewTempDir();
        var config = ControlTrainingKit.ControlNetConfig(dir.Path, steps: 4, method: "t2i-adapter") with { SaveEveryNSteps = 2, SaveState = true };
        ControlTrainingKit.AssertResumesBitIdentically(config, dir.File("resumed"));
    }

    [Fact]
    public void An_unknown_adapter_type_is_refused_listing_the_valid_ones()
    {
        using var dir = TestPaths.NewTempDir();
        var config = ControlTrainingKit.ControlNetConfig(dir.Path, method: "t2i-adapter").With(T2IAdapterMethod.AdapterType, "huge");
        var e = Assert.Throws<TrainingConfigException>(config.Validate);
        Assert.Equal("adapter_type", e.Key);
        Assert.Contains("full_adapter, full_adapter_xl, light_adapter", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_new_adapter_takes_the_layout_that_fits_the_unet_and_a_misfit_is_refused_naming_adapter_type()
    {
        using var dir = TestPaths.NewTempDir();
        var config = ControlTrainingKit.ControlNetConfig(dir.Path, method: "t2i-adapter");
        using var toy = ToyBaseModel.Create(1);        // first down block without cross-attention, as SDXL's
        using var tiny = TrainingTestKit.TinyModel();  // first down block with cross-attention, as SD 1.x's

        Assert.Equal(T2IAdapterConfig.FullAdapterXl, T2IAdapterMethod.NewAdapterConfig(config, toy).AdapterType);
        Assert.Equal(T2IAdapterConfig.FullAdapter, T2IAdapterMethod.NewAdapterConfig(config, tiny).AdapterType);

        using var misfit = new T2IAdapter(T2IAdapterMethod.NewAdapterConfig(config.With(T2IAdapterMethod.AdapterType, T2IAdapterConfig.FullAdapter), toy));
        Assert.False(misfit.LayoutFits(toy.Unet.Config));
        var e = Assert.Throws<CheckpointFormatException>(() => misfit.EnsureFits(toy.Unet.Config, "adapter_type"));
        Assert.Contains("does not fit this UNet, whose first down block is DownBlock2D", e.Message, StringComparison.Ordinal);
        Assert.Contains("use full_adapter_xl", e.Message, StringComparison.Ordinal);

        var refused = Assert.Throws<TrainingConfigException>(() => TrainingTestKit.RunKeepingBase(config.With(T2IAdapterMethod.AdapterType, T2IAdapterConfig.FullAdapter), toy, withVae: true));
        Assert.Equal("adapter_type", refused.Key);
    }

    [Fact]
    public void Timestep_sampling_defaults_to_cubic_and_accepts_uniform_only_otherwise()
    {
        Assert.Equal("cubic", T2IAdapterMethod.Sampling.Default);
        using var dir = TestPaths.NewTempDir();
        var config = ControlTrainingKit.ControlNetConfig(dir.Path, method: "t2i-adapter");
        config.With(T2IAdapterMethod.Sampling, "uniform").Validate();
        var e = Assert.Throws<TrainingConfigException>(config.With(T2IAdapterMethod.Sampling, "cosine").Validate);
        Assert.Equal("timestep_sampling", e.Key);
    }
}
