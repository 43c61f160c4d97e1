using System.IO.Compression;
using System.Text;

namespace SdTune.Text;

/// <summary>
/// Reads OpenAI CLIP's own vocabulary file, <c>bpe_simple_vocab_16e6.txt(.gz)</c>: a version header line, then
/// one merge "left right" per line. CLIP uses the first 49152 - 256 - 2 = 48894 merges; its vocabulary is the 256
/// byte-level symbols, the same with "&lt;/w&gt;" appended, the merged tokens in merge order, then
/// "&lt;|startoftext|&gt;" (49406) and "&lt;|endoftext|&gt;" (49407).
/// </summary>
internal static class OriginalBpeVocabularyFile
{
    /// <summary>How many merges CLIP takes from the file.</summary>
    public const int MergeCount = 49152 - 256 - 2;

    /// <summary>The manifest resource name of the embedded copy.</summary>
    public const string ResourceName = "SdTune.Text.bpe_simple_vocab_16e6.txt.gz";

    /// <summary>Loads the copy embedded in this assembly.</summary>
    public static ClipVocabulary ReadEmbedded()
    {
        using var stream = typeof(OriginalBpeVocabularyFile).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The embedded resource {ResourceName} is missing from {typeof(OriginalBpeVocabularyFile).Assembly.GetName().Name}.");
        return Read(stream, ResourceName);
    }

    /// <summary>Loads a file, gzip-compressed or plain text.</summary>
    public static ClipVocabulary ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"CLIP BPE vocabulary file not found: {path}", path);
        }

        using var stream = File.OpenRead(path);
        return Read(stream, path);
    }

    /// <summary>Loads from a stream; <paramref name="source"/> names it in error messages.</summary>
    public static ClipVocabulary Read(Stream stream, string source)
    {
        using var text = new StreamReader(OpenMaybeGzip(stream), Encoding.UTF8);
        var merges = new List<BpeMerge>(MergeCount);
        var lineNumber = 1;
        if (text.ReadLine() is null)
        {
            throw new InvalidDataException($"{source}: the file is empty; expected a version header and {MergeCount} merges.");
        }

        while (merges.Count < MergeCount)
        {
            lineNumber++;
            var line = text.ReadLine()
                ?? throw new InvalidDataException($"{source}: the file ends after {merges.Count} merges; CLIP needs {MergeCount}.");
            merges.Add(ParseMerge(line, lineNumber, source));
        }

        var tokens = new List<string>(2 * 256 + MergeCount + 2);
        tokens.AddRange(ByteLevelAlphabet.VocabularyOrder.Select(b => ByteLevelAlphabet.ToChar(b).ToString()));
        tokens.AddRange(ByteLevelAlphabet.VocabularyOrder.Select(b => ByteLevelAlphabet.ToChar(b) + ClipVocabulary.EndOfWordSuffix));
        tokens.AddRange(merges.Select(m => m.Left + m.Right));
        tokens.Add(ClipPreTokenizer.StartOfText);
        tokens.Add(ClipPreTokenizer.EndOfText);
        return new ClipVocabulary(tokens, merges, source, source);
    }

    /// <summary>Parses "left right"; errors name the file and line.</summary>
    public static BpeMerge ParseMerge(string line, int lineNumber, string source)
    {
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
        {
            throw new InvalidDataException($"{source}:{lineNumber}: expected a merge \"left right\" (two symbols separated by one space), got \"{line}\".");
        }

        return new BpeMerge(line[..space], line[(space + 1)..], lineNumber);
    }

    private static Stream OpenMaybeGzip(Stream stream)
    {
        if (!stream.CanSeek)
        {
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            copy.Position = 0;
            stream = copy;
        }

        var start = stream.Position;
        Span<byte> magic = stackalloc byte[2];
        var read = stream.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
        stream.Position = start;
        return read == 2 && magic[0] == 0x1F && magic[1] == 0x8B ? new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true) : stream;
    }
}
