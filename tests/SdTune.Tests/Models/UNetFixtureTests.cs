using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.Models.Layers;
using SdTune.Models.Unet;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SdTune.Tests.Models;

public class UNetFixtureTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    private static UNet2DConditionModel LoadTinyUNet(SafetensorsFile fixture)
    {
        var config = UNet2DConditionConfig.Load(TestPaths.Fixture("unet_sd1_tiny.config.json"));
        var unet = new UNet2DConditionModel(config);
        unet.eval();
        ModuleWeights.Load(unet, fixture, ignore: ModelTestUtil.IsFixtureData);
        return unet;
    }

    [Fact]
    public void Tiny_sd1_unet_matches_reference_with_integer_timesteps()
    {
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("unet_sd1_tiny.safetensors"));
        using var unet = LoadTinyUNet(fixture);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sample = fixture.Read("input.sample");
        var timestep = fixture.Read("input.timestep");
        Assert.Equal(ScalarType.Int64, timestep.dtype);
        var context = fixture.Read("input.encoder_hidden_states");

        var prediction = unet.forward(sample, timestep, context);

        var error = ModelTestUtil.MaxAbsDiff(prediction, fixture, "output_f64.sample");
        output.WriteLine($"max abs error vs float64 reference: {error:E2}");
        Assert.True(error <= Tolerance, $"max abs error {error}");
    }

    [Fact]
    public void Tiny_sd1_unet_matches_reference_with_fractional_timesteps()
    {
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("unet_sd1_tiny.safetensors"));
        using var unet = LoadTinyUNet(fixture);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sample = fixture.Read("input.sample");
        var timestep = fixture.Read("input2.timestep");
        Assert.Equal(ScalarType.Float32, timestep.dtype);
        var context = fixture.Read("input.encoder_hidden_states");

        var prediction = unet.forward(sample, timestep, context);

        var error = ModelTestUtil.MaxAbsDiff(prediction, fixture, "output2_f64.sample");
        output.WriteLine($"max abs error vs float64 reference: {error:E2}");
        Assert.True(error <= Tolerance, $"max abs error {error}");
    }

    [Fact]
    public void Scalar_timestep_is_broadcast_to_the_batch()
    {
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("unet_sd1_tiny.safetensors"));
        using var unet = LoadTinyUNet(fixture);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var sample = fixture.Read("input.sample");
        var context = fixture.Read("input.encoder_hidden_states");

        var perSample = unet.forward(sample, tensor(new long[] { 37, 37 }), context);
        var scalar = unet.forward(sample, 37.0, context);
        var zeroDim = unet.forward(sample, tensor(37L), context);

        Assert.True((perSample - scalar).abs().max().item<float>() < 1e-6);
        Assert.True((perSample - zeroDim).abs().max().item<float>() < 1e-6);
    }
}
