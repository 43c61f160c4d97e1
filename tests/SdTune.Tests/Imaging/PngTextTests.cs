using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using SdTune.Imaging;
using SkiaSharp;

namespace SdTune.Tests.Imaging;

public class PngTextTests
{
    private const string Infotext = "a cat, sitting\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 8x6";

    [Fact]
    public void Parameters_are_written_as_tEXt_before_the_image_data_and_read_back()
    {
        using var dir = TestPaths.NewTempDir();
        using var image = TestImages.Pattern(8, 6);
        var path = dir.File("out.png");

        PngWriter.Save(path, image, new Dictionary<string, string> { ["parameters"] = Infotext, ["Software"] = "SdTune" });

        var chunks = PngText.Read(path);
        Assert.Equal(2, chunks.Count);
        Assert.Equal(new PngTextChunk(PngTextKind.Text, "parameters", Infotext), chunks[0]);
        Assert.Equal(new PngTextChunk(PngTextKind.Text, "Software", "SdTune"), chunks[1]);
        Assert.Equal(Infotext, PngText.Find(chunks, PngText.ParametersKeyword));

        var layout = Chunks(File.ReadAllBytes(path));
        Assert.Equal("IHDR", layout[0].Type);
        Assert.True(layout.FindIndex(c => c.Type == "tEXt") < layout.FindIndex(c => c.Type == "IDAT"));
        Assert.Equal("IEND", layout[^1].Type);
        Assert.Equal("parameters\0" + Infotext, Encoding.Latin1.GetString(layout.First(c => c.Type == "tEXt").Data));

        // The pixels are untouched.
        using var decoded = SKBitmap.Decode(path);
        Assert.Equal(image.Pixels, decoded.Pixels);
    }

    [Fact]
    public void Every_chunk_crc_is_correct()
    {
        using var image = TestImages.Pattern(8, 6);
        var png = PngWriter.Encode(image, new Dictionary<string, string> { ["parameters"] = Infotext, ["comment"] = "日本語 ✓" });

        foreach (var chunk in Chunks(png))
        {
            Assert.Equal(BitwiseCrc32([.. Encoding.ASCII.GetBytes(chunk.Type), .. chunk.Data]), chunk.Crc);
        }
    }

    [Fact]
    public void Text_outside_latin1_goes_into_an_uncompressed_utf8_iTXt()
    {
        using var image = TestImages.Pattern(4, 4);
        const string text = "桜の木, café ☕\nSteps: 20";

        var png = PngWriter.Encode(image, new Dictionary<string, string> { ["parameters"] = text, ["latin"] = "café" });

        var itxt = Chunks(png).Single(c => c.Type == "iTXt");
        byte[] expected = [.. "parameters"u8.ToArray(), 0, 0, 0, 0, 0, .. Encoding.UTF8.GetBytes(text)];
        Assert.Equal(expected, itxt.Data);
        Assert.Equal("latin\0caf\u00e9", Encoding.Latin1.GetString(Chunks(png).Single(c => c.Type == "tEXt").Data));
        var chunks = PngText.Read(png, "memory");
        Assert.Equal(new PngTextChunk(PngTextKind.InternationalText, "parameters", text), chunks[0]);
        Assert.Equal("café", chunks[1].Text);
    }

    [Fact]
    public void Identical_pixels_and_text_give_identical_files()
    {
        using var dir = TestPaths.NewTempDir();
        using var a = TestImages.Pattern(32, 16);
        using var b = TestImages.Pattern(32, 16);
        var text = new Dictionary<string, string> { ["parameters"] = Infotext };

        PngWriter.Save(dir.File("a.png"), a, text);
        PngWriter.Save(dir.File("b.png"), b, text);

        Assert.Equal(File.ReadAllBytes(dir.File("a.png")), File.ReadAllBytes(dir.File("b.png")));
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void Compressed_zTXt_and_iTXt_chunks_are_read()
    {
        using var image = TestImages.Pattern(4, 4);
        var png = PngWriter.Encode(image);
        byte[] ztxt = [.. "prompt"u8.ToArray(), 0, 0, .. Deflate(Encoding.Latin1.GetBytes("{\"3\": {\"class_type\": \"KSampler\"}}"))];
        byte[] itxt = [.. "workflow"u8.ToArray(), 0, 1, 0, .. "en"u8.ToArray(), 0, .. "Arbeitsablauf"u8.ToArray(), 0, .. Deflate(Encoding.UTF8.GetBytes("ノード"))];
        var withText = InsertBeforeIend(png, ("zTXt", ztxt), ("iTXt", itxt));

        var chunks = PngText.Read(withText, "comfy.png");

        Assert.Equal(new PngTextChunk(PngTextKind.CompressedText, "prompt", "{\"3\": {\"class_type\": \"KSampler\"}}"), chunks[0]);
        Assert.Equal(new PngTextChunk(PngTextKind.InternationalText, "workflow", "ノード", "en", "Arbeitsablauf"), chunks[1]);
    }

    [Fact]
    public void Corrupt_and_non_png_files_are_reported_with_their_name()
    {
        using var dir = TestPaths.NewTempDir();
        using var image = TestImages.Pattern(4, 4);
        var png = PngWriter.Encode(image, new Dictionary<string, string> { ["parameters"] = Infotext });
        var text = Chunks(png).First(c => c.Type == "tEXt");
        png[text.DataOffset + 3] ^= 0x20;
        File.WriteAllBytes(dir.File("bad.png"), png);
        File.WriteAllText(dir.File("text.png"), "hello");

        var crc = Assert.Throws<InvalidDataException>(() => PngText.Read(dir.File("bad.png")));
        var signature = Assert.Throws<InvalidDataException>(() => PngText.Read(dir.File("text.png")));

        Assert.Contains("bad.png", crc.Message, StringComparison.Ordinal);
        Assert.Contains("CRC", crc.Message, StringComparison.Ordinal);
        Assert.Contains("text.png", signature.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" leading")]
    [InlineData("double  space")]
    [InlineData("tab\there")]
    public void Invalid_keywords_are_refused(string keyword)
    {
        using var image = TestImages.Pattern(2, 2);
        Assert.Throws<ArgumentException>(() => PngWriter.Encode(image, new Dictionary<string, string> { [keyword] = "x" }));
    }

    private sealed record RawChunk(string Type, byte[] Data, uint Crc, int DataOffset);

    /// <summary>An independent chunk walker for the assertions.</summary>
    private static List<RawChunk> Chunks(byte[] png)
    {
        var result = new List<RawChunk>();
        for (var p = 8; p < png.Length;)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(p));
            var type = Encoding.ASCII.GetString(png, p + 4, 4);
            result.Add(new RawChunk(type, png[(p + 8)..(p + 8 + length)], BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(p + 8 + length)), p + 8));
            p += 12 + length;
        }

        return result;
    }

    /// <summary>CRC-32 bit by bit, straight from the PNG specification's definition.</summary>
    private static uint BitwiseCrc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }

    private static byte[] Deflate(byte[] data)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal))
        {
            zlib.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] InsertBeforeIend(byte[] png, params (string Type, byte[] Data)[] chunks)
    {
        var iend = Chunks(png).Single(c => c.Type == "IEND").DataOffset - 8;
        using var output = new MemoryStream();
        output.Write(png, 0, iend);
        foreach (var (type, data) in chunks)
        {
            var typed = Encoding.ASCII.GetBytes(type);
            var header = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(header, (uint)data.Length);
            output.Write(header);
            output.Write(typed);
            output.Write(data);
            BinaryPrimitives.WriteUInt32BigEndian(header, BitwiseCrc32([.. typed, .. data]));
            output.Write(header);
        }

        output.Write(png, iend, png.Length - iend);
        return output.ToArray();
    }
}
