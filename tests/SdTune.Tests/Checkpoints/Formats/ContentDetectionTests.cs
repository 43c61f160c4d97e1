using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints;
using SdTune.Checkpoints.Embeddings;
using SdTune.Checkpoints.Inspection;
using SdTune.Checkpoints.Pickle;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using SdTune.Tests.Adapters;
using SdTune.Tests.Checkpoints.Pickle;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Formats;

/// <summary>
/// Every entry point that opens a weight file tells the format by content, not by extension: a pickle that tries to
/// run code is refused naming the global, whatever the file is called and whatever the pickle protocol.
/// </summary>
public class ContentDetectionTests
{
    /// <summary>The same os.system pickle as protocol 0 text, protocol 1, protocol 2 and inside a torch zip.</summary>
    public static TheoryData<string, string> HostileFiles => new()
    {
        { "evil_p0.pt", "evil.ckpt" },
        { "evil_p1.pt", "evil.safetensors" },
        { "evil_p2.pt", "evil.pt" },
        { "zip", "evil.ckpt" },
    };

    private static string Place(TempDir dir, string source, string name)
    {
        var path = dir.File(name);
        if (source == "zip")
        {
            PickleBuilder.WriteZip(path, File.ReadAllBytes(PickleFixtures.Protocol("evil_p2.pt")));
        }
        else
        {
            File.Copy(PickleFixtures.Protocol(source), path);
        }

        return path;
    }

    private static void AssertRefusesOsSystem(string path, Action open)
    {
        var error = Assert.Throws<CheckpointFormatException>(open);
        Assert.StartsWith(path + ": ", error.Message, StringComparison.Ordinal);
        Assert.Contains("'posix.system'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(HostileFiles))]
    public void Every_entry_point_names_the_refused_global(string source, string name)
    {
        using var dir = TestPaths.NewTempDir();
        var path = Place(dir, source, name);
        AssertRefusesOsSystem(path, () => TensorSources.Open(path).Dispose());
        AssertRefusesOsSystem(path, () => ModelInspector.Inspect(path));
        AssertRefusesOsSystem(path, () => TextualInversionFile.Load(path).Dispose());
        using var unet = AdapterTestModels.LoadTinyUNet();
        AssertRefusesOsSystem(path, () => LoraFileReader.Read(path, new LoraTargets(unet, null)));
        using var network = LoraNetwork.Create(new LoraTargets(unet, null), new LoraNetworkOptions { Dim = 2, Alpha = 1 });
        AssertRefusesOsSystem(path, () => KohyaLoraFormat.LoadInto(network, path));
    }

    [Theory]
    [InlineData(640)] // a length field of 80 02 00 ... reads like a PROTO 2 opcode
    [InlineData(1408)] // 80 05 00 ...: PROTO 5
    [InlineData(0x28 + (24 << 8))] // 28 18 00 ...: a MARK opcode
    public void A_safetensors_file_whose_header_length_reads_like_a_pickle_is_safetensors(int headerLength)
    {
        using var dir = TestPaths.NewTempDir();
        var json = """{"emb_params":{"dtype":"F32","shape":[1,4],"data_offsets":[0,16]}}""";
        var path = Safetensors.SafetensorsTestFiles.Write(dir, json + new string(' ', headerLength - json.Length), 16, name: "token.safetensors");
        Assert.Equal(ContainerKind.Safetensors, ContainerFormat.Detect(path));
        using (var source = TensorSources.Open(path))
        {
            Assert.Equal("emb_params", Assert.Single(source.Entries).Name);
        }

        Assert.Equal(ModelFileKind.Embedding, ModelInspector.Inspect(path).Kind);
        using var embedding = TextualInversionFile.Load(path);
        Assert.Equal(4, embedding.Width);
    }

    [Fact]
    public void The_safetensors_reader_says_a_torch_checkpoint_is_one()
    {
        using var dir = TestPaths.NewTempDir();
        var path = Place(dir, "zip", "model.safetensors");
        var error = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains("not a safetensors file: it is a PyTorch checkpoint (zip archive)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lora_saved_as_a_torch_pickle_reads_as_its_safetensors_twin()
    {
        using var dir = TestPaths.NewTempDir();
        var safetensors = dir.File("lora.safetensors");
        var pickle = dir.File("lora.pt");
        using var unet = AdapterTestModels.LoadTinyUNet();
        using (var network = LoraNetwork.Create(new LoraTargets(unet, null), new LoraNetworkOptions { Dim = 2, Alpha = 1, ConvDim = 2, ConvAlpha = 1 }))
        {
            using (no_grad())
            {
                foreach (var entry in network.Entries)
                {
                    foreach (var parameter in entry.Module.parameters())
                    {
                        parameter.normal_(0, 0.1);
                    }
                }
            }

            KohyaLoraFormat.Save(safetensors, network, new KohyaSaveOptions());
        }

        using (var file = SafetensorsFile.Open(safetensors))
        {
            var tensors = file.ReadAll();
            TorchCheckpointWriter.Save(pickle, tensors);
            foreach (var (_, tensor) in tensors)
            {
                tensor.Dispose();
            }
        }

        var fromSafetensors = LoraFileReader.Read(safetensors, new LoraTargets(unet, null));
        var fromPickle = LoraFileReader.Read(pickle, new LoraTargets(unet, null));
        Assert.Empty(fromPickle.UnmatchedKeys);
        Assert.Equal(fromSafetensors.Network.Entries.Select(e => e.Name), fromPickle.Network.Entries.Select(e => e.Name));
        foreach (var (a, b) in fromSafetensors.Network.Entries.Zip(fromPickle.Network.Entries))
        {
            foreach (var ((nameA, tensorA), (_, tensorB)) in a.Module.named_parameters().Zip(b.Module.named_parameters()))
            {
                Assert.True(tensorA.equal(tensorB).all().item<bool>(), $"{a.Name}.{nameA} differs");
            }
        }

        fromSafetensors.Network.Dispose();
        fromPickle.Network.Dispose();
    }
}
