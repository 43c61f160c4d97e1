using System.Security.Cryptography;
using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints.Safetensors;
using SdTune.Models.Unet;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Tests.Adapters;

public class LoraFormatTests
{
    private const string OneLayer = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q";

    /// <summary>A network on the tiny UNet with random up weights on <see cref="OneLayer"/> only.</summary>
    private static LoraNetwork OneLayerNetwork(UNet2DConditionModel unet, double alpha)
    {
        var network = LoraNetwork.Create(new LoraTargets(unet, null), new LoraNetworkOptions { Dim = 4, Alpha = alpha, ConvDim = 2, ConvAlpha = 1 });
        using var noGrad = no_grad();
        var module = (LoraModule)network.Entries.Single(e => e.ModulePath == OneLayer).Module;
        module.UpWeight.normal_(0, 0.5);
        return network;
    }

    [Fact]
    public void Saved_lora_reloads_and_changes_the_unet_exactly_as_W_plus_scale_up_down()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("one.safetensors");
        using (var source = AdapterTestModels.LoadTinyUNet())
        using (var network = OneLayerNetwork(source, alpha: 2))
        {
            var metadata = KohyaLoraFormat.Save(path, network, new KohyaSaveOptions { OutputName = "one", Date = new DateTimeOffset(2024, 6, 10, 12, 0, 0, TimeSpan.Zero) });
            Assert.Equal("networks.lora", metadata["ss_network_module"]);
            Assert.Equal("4", metadata["ss_network_dim"]);
            Assert.Equal("2.0", metadata["ss_network_alpha"]);
            Assert.Equal("sd_v1", metadata["ss_base_model_version"]);
            Assert.Equal("False", metadata["ss_v2"]);
            Assert.Equal("""{"conv_dim": "2", "conv_alpha": "1"}""", metadata["ss_network_args"]);
            Assert.Equal("stable-diffusion-v1/lora", metadata["modelspec.architecture"]);
            Assert.Equal("1.0.1", metadata["modelspec.sai_model_spec"]);
            Assert.Equal("2024-06-10T12:00:00", metadata["modelspec.date"]);
        }

        string downKey = "lora_unet_" + OneLayer.Replace('.', '_') + ".lora_down.weight";
        Tensor down, up, alpha;
        using (var file = SafetensorsFile.Open(path))
        {
            Assert.Equal(SafetensorsDType.F32, file.Info(downKey).DType);
            Assert.Empty(file.Info(downKey.Replace("lora_down.weight", "alpha", StringComparison.Ordinal)).Shape);
            down = file.Read(downKey);
            up = file.Read(downKey.Replace("lora_down", "lora_up", StringComparison.Ordinal));
            alpha = file.Read(downKey.Replace("lora_down.weight", "alpha", StringComparison.Ordinal));
        }

        using var unet = AdapterTestModels.LoadTinyUNet();
        using var reference = AdapterTestModels.Run(unet);
        using var applied = LoraApplier.Apply(new LoraTargets(unet, null), path, unetWeight: 0.8);
        Assert.Empty(applied.File.UnmatchedKeys);
        using var hooked = AdapterTestModels.Run(unet);
        applied.Remove();

        // The maths by hand: W' = W + 0.8 · (alpha / rank) · up @ down on that one layer.
        using var expectedUnet = AdapterTestModels.LoadTinyUNet();
        var layer = (Linear)expectedUnet.named_modules().Single(m => m.name == OneLayer).module;
        using (no_grad())
        {
            layer.weight.add_(up.matmul(down) * (0.8 * alpha.item<float>() / 4));
        }

        using var expected = AdapterTestModels.Run(expectedUnet);
        Assert.True(AdapterTestModels.MaxAbs(reference, expected) > 1e-3);
        Assert.True(AdapterTestModels.MaxAbs(hooked, expected) < 1e-5);
        Assert.Equal(0.0, AdapterTestModels.MaxAbs(reference, AdapterTestModels.Run(unet)));

        // Merging gives the same output; two copies at 0.4 each stack to one at 0.8.
        using (LoraApplier.Apply(new LoraTargets(unet, null), path, unetWeight: 0.8, mode: LoraApplyMode.Merge))
        using (var merged = AdapterTestModels.Run(unet))
        {
            Assert.True(AdapterTestModels.MaxAbs(merged, expected) < 1e-5);
        }

        using (LoraApplier.Apply(new LoraTargets(unet, null), path, unetWeight: 0.4))
        using (LoraApplier.Apply(new LoraTargets(unet, null), path, unetWeight: 0.4, mode: LoraApplyMode.Merge))
        using (var stacked = AdapterTestModels.Run(unet))
        {
            Assert.True(AdapterTestModels.MaxAbs(stacked, expected) < 1e-5);
        }

        Assert.True(AdapterTestModels.MaxAbs(reference, AdapterTestModels.Run(unet)) < 1e-5);
    }

    [Fact]
    public void Save_dtype_applies_to_every_tensor_including_the_0d_alpha_and_training_continues_from_the_file()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("half.safetensors");
        using var unet = AdapterTestModels.LoadTinyUNet();
        using var network = OneLayerNetwork(unet, alpha: 1);
        KohyaLoraFormat.Save(path, network, new KohyaSaveOptions { SaveDType = ScalarType.Float16 });
        using (var file = SafetensorsFile.Open(path))
        {
            Assert.All(file.Tensors, t => Assert.Equal(SafetensorsDType.F16, t.DType));
            Assert.Equal(network.state_dict().Keys.Order(StringComparer.Ordinal), file.Tensors.Select(t => t.Name));
        }

        using var resumed = LoraNetwork.Create(new LoraTargets(unet, null), new LoraNetworkOptions { Dim = 4, Alpha = 1, ConvDim = 2, ConvAlpha = 1 });
        var report = KohyaLoraFormat.LoadInto(resumed, path);
        Assert.True(report.IsComplete);
        var saved = network.state_dict();
        foreach (var (name, value) in resumed.state_dict())
        {
            Assert.True(AdapterTestModels.MaxAbs(value, saved[name].to(ScalarType.Float16)) == 0, name);
        }
    }

    [Fact]
    public void Hashes_equal_an_independent_sha256_of_the_ss_only_serialization()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("big.safetensors");
        using var layer = nn.Linear(1024, 512);
        using var module = new LoraModule(AdaptedLayer.TryCreate(layer)!, new AdapterSettings(300, 8));
        using var network = new LoraNetwork(SdTune.Models.SdArchitecture.SD1, [new LoraNetworkEntry("lora_unet_big", LoraComponent.Unet, "big", module)]);
        var metadata = KohyaLoraFormat.Save(path, network);

        // Data section of the written file: the tensor bytes do not depend on metadata.
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes.AsSpan(8 + headerLength))), metadata["sshs_model_hash"]);

        // Legacy hash: the same tensors serialized with only the ss_* keys, bytes [1 MiB, 1 MiB + 64 KiB).
        var ssOnly = metadata.Where(kv => kv.Key.StartsWith("ss_", StringComparison.Ordinal)).ToDictionary();
        var probe = dir.File("probe.safetensors");
        using (var file = SafetensorsFile.Open(path))
        {
            SafetensorsWriter.Save(probe, file.ReadAll(), ssOnly);
        }

        var probeBytes = File.ReadAllBytes(probe);
        Assert.True(probeBytes.Length > 0x110000);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(probeBytes.AsSpan(0x100000, 0x10000)))[..8], metadata["sshs_legacy_hash"]);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(probeBytes.AsSpan(8 + (int)BitConverter.ToUInt64(probeBytes, 0)))), metadata["sshs_model_hash"]);
        Assert.DoesNotContain(metadata.Keys, k => !k.StartsWith("ss_", StringComparison.Ordinal) && !k.StartsWith("sshs_", StringComparison.Ordinal) && !k.StartsWith("modelspec.", StringComparison.Ordinal));
    }

    [Fact]
    public void Peft_and_diffusers_files_act_like_the_equivalent_kohya_file_and_missing_alpha_means_rank()
    {
        using var dir = TestPaths.NewTempDir();
        using var unet = AdapterTestModels.LoadTinyUNet();
        using var clip = SdTune.Tests.Models.Clip.ClipTextFixture.LoadModel();
        var targets = new LoraTargets(unet, clip);
        var kohya = new List<KeyValuePair<string, Tensor>>();
        var peft = new List<KeyValuePair<string, Tensor>>();
        var diffusers = new List<KeyValuePair<string, Tensor>>();
        using (var network = LoraNetwork.Create(targets, new LoraNetworkOptions { Dim = 3, Alpha = 3 }))
        {
            foreach (var entry in network.Entries)
            {
                var module = (LoraModule)entry.Module;
                using (no_grad())
                {
                    module.UpWeight.normal_(0, 0.2);
                }

                var (down, up) = (module.DownWeight.detach().clone(), module.UpWeight.detach().clone());
                // kohya without alpha keys: alpha = rank, as PEFT files (which store none) mean too.
                kohya.Add(new(entry.Name + ".lora_down.weight", down));
                kohya.Add(new(entry.Name + ".lora_up.weight", up));
                var prefix = entry.Component == LoraComponent.Unet ? "unet." : "text_encoder.";
                peft.Add(new(prefix + entry.ModulePath + ".lora_A.weight", down));
                peft.Add(new(prefix + entry.ModulePath + ".lora_B.weight", up));
                var (downName, upName) = entry.Component == LoraComponent.Unet ? (".lora.down.weight", ".lora.up.weight") : (".lora_linear_layer.down.weight", ".lora_linear_layer.up.weight");
                diffusers.Add(new(prefix + entry.ModulePath + downName, down));
                diffusers.Add(new(prefix + entry.ModulePath + upName, up));
            }
        }

        kohya.Add(new("lora_unet_no_such_layer.lora_down.weight", zeros(3, 4)));
        kohya.Add(new("something_else", zeros(1)));
        var outputs = new List<Tensor>();
        foreach (var (name, tensors) in new[] { ("kohya", kohya), ("peft", peft), ("diffusers", diffusers) })
        {
            var path = dir.File(name + ".safetensors");
            SafetensorsWriter.Save(path, tensors);
            using var applied = LoraApplier.Apply(targets, path);
            Assert.Equal(name == "kohya" ? ["lora_unet_no_such_layer.lora_down.weight", "something_else"] : [], applied.File.UnmatchedKeys);
            Assert.All(applied.File.Network.Entries, e => Assert.Equal(1.0, e.Module.Scale));
            Assert.Equal(kohya.Count - 2, applied.File.Network.state_dict().Count(kv => !kv.Key.EndsWith(".alpha", StringComparison.Ordinal)));
            outputs.Add(AdapterTestModels.Run(unet));
            using var ids = SdTune.Tests.Models.Clip.ClipTextFixture.Read("input.input_ids");
            using (no_grad())
            {
                outputs.Add(clip.forward(ids).LastHiddenState.detach().clone());
            }
        }

        using var reference = AdapterTestModels.Run(unet);
        Assert.True(AdapterTestModels.MaxAbs(reference, outputs[0]) > 1e-3);
        Assert.Equal(0.0, AdapterTestModels.MaxAbs(outputs[0], outputs[2]));
        Assert.Equal(0.0, AdapterTestModels.MaxAbs(outputs[0], outputs[4]));
        Assert.Equal(0.0, AdapterTestModels.MaxAbs(outputs[1], outputs[3]));
        Assert.Equal(0.0, AdapterTestModels.MaxAbs(outputs[1], outputs[5]));
    }

    [Theory]
    [InlineData("loha")]
    [InlineData("lokr")]
    public void Lycoris_networks_round_trip_through_the_kohya_file(string algorithm)
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File(algorithm + ".safetensors");
        using var unet = AdapterTestModels.LoadTinyUNet();
        var targets = new LoraTargets(unet, null);
        using var network = LoraNetwork.Create(targets, new LoraNetworkOptions { Algorithm = algorithm, Dim = 2, Alpha = 1, ConvDim = 2, ConvAlpha = 1 });
        using (no_grad())
        {
            foreach (var p in network.parameters())
            {
                p.normal_(0, 0.3);
            }
        }

        var metadata = KohyaLoraFormat.Save(path, network);
        Assert.Equal("lycoris.kohya", metadata["ss_network_module"]);
        var file = LoraFileReader.Read(path, targets);
        using var read = file.Network;
        Assert.Empty(file.UnmatchedKeys);
        var readByName = read.Entries.ToDictionary(e => e.Name);
        Assert.Equal(network.Entries.Select(e => e.Name).Order(StringComparer.Ordinal), readByName.Keys.Order(StringComparer.Ordinal));
        foreach (var a in network.Entries)
        {
            var b = readByName[a.Name];
            Assert.Equal(algorithm, b.Module.GetName());
            Assert.True(AdapterTestModels.MaxAbs(a.Module.DeltaWeight(), b.Module.DeltaWeight()) < 1e-6, a.Name);
        }
    }
}
