using System.Security.Cryptography;
using System.Text;
using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints.Safetensors;
using SdTune.Models;
using static TorchSharp.torch;

namespace SdTune.Tests.Adapters;

/// <summary>A kohya LoRA file is written once, with the hashes and metadata text sd-scripts would give it.</summary>
public class KohyaLoraFileBytesTests
{
    private const int LegacyOffset = 0x100000;
    private const int LegacyLength = 0x10000;

    /// <summary>A single-module network of about 1.8 MB, so the legacy hash window lies in the data section.</summary>
    private static LoraNetwork BigNetwork(nn.Module layer)
    {
        var module = new LoraModule(AdaptedLayer.TryCreate(layer)!, new AdapterSettings(300, 8));
        using (no_grad())
        {
            module.UpWeight.normal_(0, 0.1, new Generator(3));
        }

        return new LoraNetwork(SdArchitecture.SD1, [new LoraNetworkEntry("lora_unet_big", LoraComponent.Unet, "big", module)]);
    }

    private static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>
    /// The serialization kohya hashes, built here from the written file: the 8-byte length, the header holding only the
    /// <c>ss_*</c> keys (Python's safetensors writer: compact JSON, quotes and backslashes escaped with a backslash,
    /// padded with spaces to 8 bytes), then the file's data section. The values used are printable ASCII.
    /// </summary>
    private static byte[] SsOnlySerialization(string path, IReadOnlyDictionary<string, string> metadata)
    {
        static string Quote(string s)
        {
            Assert.All(s, c => Assert.InRange(c, ' ', '~'));
            return "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
        }

        var json = new StringBuilder("{\"__metadata__\":{");
        json.AppendJoin(',', metadata.Where(kv => kv.Key.StartsWith("ss_", StringComparison.Ordinal)).Select(kv => Quote(kv.Key) + ":" + Quote(kv.Value)));
        json.Append('}');
        byte[] data;
        using (var file = SafetensorsFile.Open(path))
        {
            foreach (var t in file.Tensors.OrderBy(t => t.Begin))
            {
                json.Append(',').Append(Quote(t.Name)).Append(":{\"dtype\":\"").Append(t.DType).Append("\",\"shape\":[")
                    .AppendJoin(',', t.Shape).Append("],\"data_offsets\":[").Append(t.Begin).Append(',').Append(t.End).Append("]}");
            }

            data = File.ReadAllBytes(path)[(int)file.Header.DataStart..];
        }

        json.Append('}');
        while (json.Length % 8 != 0)
        {
            json.Append(' ');
        }

        var header = Encoding.ASCII.GetBytes(json.ToString());
        return [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. data];
    }

    [Fact]
    public void Legacy_and_model_hashes_equal_kohyas_when_metadata_values_hold_quotes_and_backslashes()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("big.safetensors");
        using var layer = nn.Linear(1024, 512);
        using var network = BigNetwork(layer);
        var options = new KohyaSaveOptions
        {
            TrainingMetadata = new Dictionary<string, string>
            {
                ["ss_datasets"] = """[{"is_dreambooth": true, "subsets": [{"image_dir": "10_sks dog", "class_tokens": "sks \"dog\""}]}]""",
                ["ss_training_comment"] = "C:\\runs\\a \"quoted\" comment",
            },
        };
        var metadata = KohyaLoraFormat.Save(path, network, options);

        var serialization = SsOnlySerialization(path, metadata);
        Assert.True(serialization.Length > LegacyOffset + LegacyLength);
        Assert.Equal(Sha256(serialization.AsSpan(LegacyOffset, LegacyLength))[..8], metadata["sshs_legacy_hash"]);
        var headerLength = (int)BitConverter.ToUInt64(serialization);
        Assert.Equal(Sha256(serialization.AsSpan(8 + headerLength)), metadata["sshs_model_hash"]);
    }

    [Fact]
    public void Network_args_are_written_as_python_json_dumps_writes_them()
    {
        using var dir = TestPaths.NewTempDir();
        using var unet = AdapterTestModels.LoadTinyUNet();
        using var network = LoraNetwork.Create(
            new LoraTargets(unet, null),
            new LoraNetworkOptions { Dim = 2, Alpha = 1, ConvDim = 2, ConvAlpha = 1, RankDropout = 1e-5 });

        var metadata = KohyaLoraFormat.Save(dir.File("args.safetensors"), network);

        Assert.Equal("""{"conv_dim": "2", "conv_alpha": "1", "rank_dropout": "1e-05"}""", metadata["ss_network_args"]);
    }

    [Fact]
    public void The_file_is_written_once_with_no_second_copy_for_hashing()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("once.safetensors");
        using var layer = nn.Linear(1024, 512);
        using var network = BigNetwork(layer);
        var events = new List<string>();
        var done = new ManualResetEventSlim();
        using var watcher = new FileSystemWatcher(dir.Path) { IncludeSubdirectories = false };
        void Record(string what, string name)
        {
            lock (events)
            {
                events.Add($"{what} {name}");
            }

            if (name == "once.safetensors")
            {
                done.Set();
            }
        }

        watcher.Created += (_, e) => Record("created", e.Name!);
        watcher.Deleted += (_, e) => Record("deleted", e.Name!);
        watcher.Renamed += (_, e) => Record("renamed", e.Name!);
        watcher.EnableRaisingEvents = true;

        KohyaLoraFormat.Save(path, network);

        // Events arrive in order; once the final file's appears, every earlier one has been seen. A second file
        // (written, then renamed or deleted) would show as another rename or a deletion.
        Assert.True(done.Wait(TimeSpan.FromSeconds(30)), "no file event for the written LoRA");
        lock (events)
        {
            Assert.Equal(["renamed once.safetensors"], events.Where(e => e.StartsWith("renamed ", StringComparison.Ordinal)));
            Assert.DoesNotContain(events, e => e.StartsWith("deleted ", StringComparison.Ordinal));
        }

        Assert.Equal(["once.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }
}
