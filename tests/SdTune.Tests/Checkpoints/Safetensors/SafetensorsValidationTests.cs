using System.Diagnostics;
using System.Text;
using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;

namespace SdTune.Tests.Checkpoints.Safetensors;

public class SafetensorsValidationTests
{
    private static string Write(TempDir dir, string header, int dataBytes, long? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var file = dir.File("bad.safetensors");
        using var stream = File.Create(file);
        stream.Write(BitConverter.GetBytes(declaredLength ?? json.Length));
        stream.Write(json);
        stream.Write(new byte[dataBytes]);
        return file;
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8, null)]
    [InlineData("""{"__metadata__":{"a":"b"},"w":{"dtype":"BOOL","shape":[],"data_offsets":[0,1]},"e":{"dtype":"F16","shape":[0],"data_offsets":[1,1]}}""", 1, null)]
    public void Valid_headers_open(string header, int data, string? unused)
    {
        _ = unused;
        using var dir = TestPaths.NewTempDir();
        using var file = SafetensorsFile.Open(Write(dir, header, data));
        Assert.NotEmpty(file.Tensors);
    }

    [Theory]
    [InlineData("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 4, "run past")]
    [InlineData("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8, "needs 12 bytes")]
    [InlineData("""{"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}""", 2, "unknown or unsupported dtype 'F8_E4M3'")]
    [InlineData("""{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "appears twice")]
    [InlineData("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12, "overlaps")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12, "gap of 4")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 12, "holds 12")]
    [InlineData("""{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, "not a non-negative integer")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}""", 4, "end before")]
    [InlineData("""{"a":{"dtype":"F32","shape":[1]}}""", 4, "data_offsets")]
    [InlineData("""{"a":{"shape":[1],"data_offsets":[0,4]}}""", 4, "dtype")]
    [InlineData("""{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}""", 4, "overflows")]
    [InlineData("""{"__metadata__":{"a":1}}""", 0, "not a string")]
    [InlineData("""{"a":{"dtype":"F32",""", 0, "not valid JSON")]
    [InlineData("""[1,2]""", 0, "not a JSON object")]
    public void Invalid_headers_are_rejected_with_a_message_naming_the_problem(string header, int data, string expected)
    {
        using var dir = TestPaths.NewTempDir();
        var path = Write(dir, header, data);
        var error = Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(path));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.StartsWith(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Header_length_beyond_the_file_or_the_cap_is_rejected_before_allocating()
    {
        using var dir = TestPaths.NewTempDir();
        var tooLong = Write(dir, "{}", 0, declaredLength: 1000);
        Assert.Contains("past the end", Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(tooLong)).Message, StringComparison.Ordinal);
        var huge = Write(dir, "{}", 0, declaredLength: long.MaxValue);
        Assert.Contains("limit", Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(huge)).Message, StringComparison.Ordinal);
        var tiny = dir.File("tiny.safetensors");
        File.WriteAllBytes(tiny, [1, 2, 3]);
        Assert.Contains("too short", Assert.Throws<CheckpointFormatException>(() => SafetensorsFile.Open(tiny)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_file_and_missing_tensor_are_named()
    {
        using var dir = TestPaths.NewTempDir();
        var missing = dir.File("nope.safetensors");
        Assert.Contains("nope.safetensors", Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Open(missing)).Message, StringComparison.Ordinal);
        using var file = SafetensorsFile.Open(Write(dir, """{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", 8));
        Assert.Contains("'x'", Assert.Throws<KeyNotFoundException>(() => file.Read("x")).Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Thousands of random mutations of a valid file (bit flips, byte overwrites, truncation, length-field edits):
    /// each must either load or fail with <see cref="CheckpointFormatException"/> — never another exception,
    /// a hang or a runaway allocation.
    /// </summary>
    [Fact]
    public void Fuzzed_files_never_crash_hang_or_allocate_hugely()
    {
        using var dir = TestPaths.NewTempDir();
        var validPath = dir.File("valid.safetensors");
        using (var a = TorchSharp.torch.randn(4, 3))
        using (var b = TorchSharp.torch.ones(5, dtype: TorchSharp.torch.ScalarType.BFloat16))
        using (var c = TorchSharp.torch.tensor(3L))
        {
            SafetensorsWriter.Save(validPath, [new("lora_unet_x.lora_down.weight", a), new("lora_unet_x.alpha", b), new("n", c)], new Dictionary<string, string> { ["ss_network_dim"] = "4" });
        }

        var valid = File.ReadAllBytes(validPath);
        var random = new Random(12345);
        var target = dir.File("fuzz.safetensors");
        var loaded = 0;
        var rejected = 0;
        var clock = Stopwatch.StartNew();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        for (var i = 0; i < 3000; i++)
        {
            var bytes = Mutate(valid, random);
            File.WriteAllBytes(target, bytes);
            try
            {
                using var file = SafetensorsFile.Open(target);
                foreach (var info in file.Tensors)
                {
                    using var t = file.Read(info.Name);
                }

                loaded++;
            }
            catch (CheckpointFormatException)
            {
                rejected++;
            }
        }

        Assert.True(rejected > 1000, $"only {rejected} of 3000 mutations were rejected");
        Assert.True(loaded > 0, "no mutation loaded (mutations only in the data section should load)");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"fuzzing took {clock.Elapsed}");
        var allocatedMb = (GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore) / (1 << 20);
        Assert.True(allocatedMb < 2000, $"fuzzing allocated {allocatedMb} MB in total");
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        var bytes = (byte[])valid.Clone();
        switch (random.Next(6))
        {
            case 0:
                for (var k = random.Next(1, 4); k > 0; k--)
                {
                    var i = random.Next(bytes.Length);
                    bytes[i] ^= (byte)(1 << random.Next(8));
                }

                return bytes;
            case 1:
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return bytes;
            case 2:
                return bytes[..random.Next(bytes.Length)];
            case 3:
                BitConverter.GetBytes(random.NextInt64()).CopyTo(bytes, 0);
                return bytes;
            case 4:
            {
                // Replace a digit of the JSON header with another digit: plausible but wrong shapes/offsets.
                var headerLength = (int)BitConverter.ToInt64(valid, 0);
                var digits = Enumerable.Range(8, headerLength).Where(i => char.IsAsciiDigit((char)bytes[i])).ToArray();
                bytes[digits[random.Next(digits.Length)]] = (byte)('0' + random.Next(10));
                return bytes;
            }

            default:
            {
                var extra = new byte[random.Next(1, 64)];
                random.NextBytes(extra);
                return [.. bytes, .. extra];
            }
        }
    }
}
