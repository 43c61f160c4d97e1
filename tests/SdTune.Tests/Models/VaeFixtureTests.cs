using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.Models.Layers;
using SdTune.Models.Vae;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SdTune.Tests.Models;

public class VaeFixtureTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-4;

    private static AutoencoderKL LoadTinyVae(SafetensorsFile fixture)
    {
        var vae = new AutoencoderKL(AutoencoderKLConfig.Load(TestPaths.Fixture("vae_tiny.config.json")));
        vae.eval();
        ModuleWeights.Load(vae, fixture, ignore: ModelTestUtil.IsFixtureData);
        return vae;
    }

    private void AssertClose(Tensor actual, SafetensorsFile fixture, string name)
    {
        var error = ModelTestUtil.MaxAbsDiff(actual, fixture, name);
        output.WriteLine($"{name}: max abs error {error:E2}");
        Assert.True(error <= Tolerance, $"{name}: max abs error {error}");
    }

    [Fact]
    public void Tiny_vae_encodes_and_decodes_like_the_reference()
    {
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("vae_tiny.safetensors"));
        using var vae = LoadTinyVae(fixture);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var image = fixture.Read("input.sample");

        // The fixture has float64 answers for mean, log-variance and decoded image; the rest are float32 outputs.
        AssertClose(vae.EncodeHidden(image), fixture, "output.encoder_hidden");
        using var latent = vae.Encode(image);
        AssertClose(latent.Mean, fixture, "output_f64.latent_mean");
        AssertClose(latent.LogVar, fixture, "output_f64.latent_logvar");
        AssertClose(latent.Std, fixture, "output.latent_std");
        AssertClose(cat([latent.Mean, latent.LogVar], 1), fixture, "output.moments");
        AssertClose(vae.Decode(latent.Mode()), fixture, "output_f64.decoded");
    }

    [Fact]
    public void Sampling_uses_mean_and_std_and_the_generator()
    {
        using var fixture = SafetensorsFile.Open(TestPaths.Fixture("vae_tiny.safetensors"));
        using var vae = LoadTinyVae(fixture);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var latent = vae.Encode(fixture.Read("input.sample"));

        var a = latent.Sample(new Generator(7));
        var b = latent.Sample(new Generator(7));
        var noise = randn(latent.Mean.shape, generator: new Generator(7));

        Assert.True(a.allclose(b));
        Assert.True(a.allclose(latent.Mean + (latent.Std * noise), rtol: 1e-5, atol: 1e-6));
    }
}
