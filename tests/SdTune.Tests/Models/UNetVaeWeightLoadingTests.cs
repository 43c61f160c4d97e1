using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using SdTune.Models.Vae;
using static TorchSharp.torch;

namespace SdTune.Tests.Models;

public class UNetVaeWeightLoadingTests
{
    private const string TinyVae = """{"block_out_channels": [8], "norm_num_groups": 4}""";

    [Fact]
    public void Weights_round_trip_through_a_file()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("vae.safetensors");
        using var source = new AutoencoderKL(AutoencoderKLConfig.Parse(TinyVae, "tiny"));
        SafetensorsWriter.Save(path, source.state_dict());
        using var target = new AutoencoderKL(AutoencoderKLConfig.Parse(TinyVae, "tiny"));

        using (var file = SafetensorsFile.Open(path))
        {
            target.LoadWeights(file);
        }

        var expected = source.state_dict();
        foreach (var (name, tensor) in target.state_dict())
        {
            Assert.True(tensor.equal(expected[name]).all().item<bool>(), name);
        }
    }

    [Fact]
    public void Missing_and_unexpected_tensors_are_listed()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("vae.safetensors");
        using var vae = new AutoencoderKL(AutoencoderKLConfig.Parse(TinyVae, "tiny"));
        var tensors = vae.state_dict().Where(kv => kv.Key != "decoder.conv_out.bias").ToList();
        using var extra = zeros(3);
        tensors.Add(new("decoder.mid.attn_1.q.weight", extra));
        SafetensorsWriter.Save(path, tensors);

        using var file = SafetensorsFile.Open(path);
        var e = Assert.Throws<CheckpointFormatException>(() => vae.LoadWeights(file));

        Assert.Contains("decoder.conv_out.bias", e.Message, StringComparison.Ordinal);
        Assert.Contains("decoder.mid.attn_1.q.weight", e.Message, StringComparison.Ordinal);
        Assert.Equal(path, e.Path);
    }
}
