using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using SdTune.Checkpoints.Safetensors;
using SdTune.Imaging;
using TorchSharp;

namespace SdTune.Tests.Imaging;

public class ModelHashesTests
{
    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static string Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    [Fact]
    public void Sha256_matches_the_fips_180_known_answer()
    {
        using var dir = TestPaths.NewTempDir();
        File.WriteAllText(dir.File("abc.bin"), "abc", Encoding.ASCII);

        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ModelHashes.Sha256(dir.File("abc.bin")));
        Assert.Equal("ba7816bf8f", ModelHashes.ShortHash(dir.File("abc.bin")));
        Assert.Equal("ba7816bf8f01", ModelHashes.ShortHash(dir.File("abc.bin"), 12));
    }

    [Fact]
    public void Legacy_hash_reads_64_kib_at_one_mib()
    {
        using var dir = TestPaths.NewTempDir();
        var big = RandomBytes(0x100000 + 0x10000 + 5000, 1);
        var endsInside = RandomBytes(0x100000 + 100, 2);
        File.WriteAllBytes(dir.File("big.ckpt"), big);
        File.WriteAllBytes(dir.File("inside.ckpt"), endsInside);
        File.WriteAllBytes(dir.File("small.ckpt"), RandomBytes(5000, 3));

        Assert.Equal(Hex(big.AsSpan(0x100000, 0x10000))[..8], ModelHashes.LegacyHash(dir.File("big.ckpt")));
        Assert.Equal(Hex(endsInside.AsSpan(0x100000))[..8], ModelHashes.LegacyHash(dir.File("inside.ckpt")));

        // Shorter than 1 MiB: A1111 hashes the empty read, SHA-256("") = e3b0c442...
        Assert.Equal("e3b0c442", ModelHashes.LegacyHash(dir.File("small.ckpt")));
        Assert.Equal(Hex(big)[..10], ModelHashes.ShortHash(dir.File("big.ckpt")));
    }

    [Fact]
    public void Safetensors_data_hash_skips_length_and_header()
    {
        using var dir = TestPaths.NewTempDir();
        var header = Encoding.UTF8.GetBytes("{\"__metadata__\":{\"ss_network_dim\":\"4\"},\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}  ");
        var data = RandomBytes(12, 4);
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)header.Length);
        File.WriteAllBytes(dir.File("lora.safetensors"), [.. prefix, .. header, .. data]);

        // Changing only the metadata leaves the hash alone.
        var otherHeader = Encoding.UTF8.GetBytes("{\"__metadata__\":{\"ss_network_dim\":\"8\"},\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]}}");
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)otherHeader.Length);
        File.WriteAllBytes(dir.File("edited.safetensors"), [.. prefix, .. otherHeader, .. data]);

        Assert.Equal(Hex(data), ModelHashes.SafetensorsDataHash(dir.File("lora.safetensors")));
        Assert.Equal(Hex(data), ModelHashes.SafetensorsDataHash(dir.File("edited.safetensors")));
    }

    [Fact]
    public void Bad_inputs_name_the_file()
    {
        using var dir = TestPaths.NewTempDir();
        var prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, 1000);
        File.WriteAllBytes(dir.File("short.safetensors"), [.. prefix, 1, 2, 3]);

        var header = Assert.Throws<InvalidDataException>(() => ModelHashes.SafetensorsDataHash(dir.File("short.safetensors")));
        var missing = Assert.Throws<FileNotFoundException>(() => ModelHashes.Sha256(dir.File("none.ckpt")));

        Assert.Contains("short.safetensors", header.Message, StringComparison.Ordinal);
        Assert.Contains("none.ckpt", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lora_hash_is_a1111s_metadata_hash_else_the_data_section_hash_else_the_file_hash()
    {
        using var dir = TestPaths.NewTempDir();
        using var weights = torch.arange(12, dtype: torch.float32);
        var recorded = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        SafetensorsWriter.Save(dir.File("tagged.safetensors"), [new("w", weights)], new Dictionary<string, string> { ["sshs_model_hash"] = recorded, ["ss_output_name"] = "tagged" });
        SafetensorsWriter.Save(dir.File("plain.safetensors"), [new("w", weights)], new Dictionary<string, string> { ["ss_output_name"] = "plain" });
        File.WriteAllBytes(dir.File("old.pt"), RandomBytes(3000, 5));
        var data = MemoryMarshal.AsBytes(Enumerable.Range(0, 12).Select(i => (float)i).ToArray().AsSpan()).ToArray();

        // The recorded hash is used as it is, although no part of the file hashes to it.
        Assert.Equal(recorded[..12], ModelHashes.LoraHash(dir.File("tagged.safetensors")));
        Assert.NotEqual(recorded[..12], ModelHashes.ShortHash(dir.File("tagged.safetensors"), 12));
        Assert.NotEqual(recorded, ModelHashes.SafetensorsDataHash(dir.File("tagged.safetensors")));

        // Without it: the data section, not the whole file (A1111's "addnet" hash).
        Assert.Equal(Hex(data)[..12], ModelHashes.LoraHash(dir.File("plain.safetensors")));
        Assert.NotEqual(ModelHashes.ShortHash(dir.File("plain.safetensors"), 12), ModelHashes.LoraHash(dir.File("plain.safetensors")));

        // Not a safetensors file: the whole file.
        Assert.Equal(ModelHashes.ShortHash(dir.File("old.pt"), 12), ModelHashes.LoraHash(dir.File("old.pt")));
    }
}
