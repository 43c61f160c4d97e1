using System.IO.Compression;
using System.Text.Json;
using SdTune.Text;

namespace SdTune.Tests.Text;

public class ClipTokenizerLoadingTests
{
    private static string EmbeddedVocabularyFile =>
        Path.Combine(TestPaths.RepositoryRoot, "src", "SdTune", "Text", "Resources", "bpe_simple_vocab_16e6.txt.gz");

    [Fact]
    public void Saved_transformers_folder_reloads_with_identical_ids_on_every_case()
    {
        using var dir = TestPaths.NewTempDir();
        ClipTokenizer.CreateDefault().SaveTo(dir.Path);
        Assert.True(File.Exists(dir.File("vocab.json")));
        Assert.StartsWith("#version: 0.2\n", File.ReadAllText(dir.File("merges.txt")), StringComparison.Ordinal);
        Assert.Equal(48894 + 1, File.ReadLines(dir.File("merges.txt")).Count());

        var reloaded = ClipTokenizer.FromTransformersFolder(dir.Path);
        Assert.Equal(49408, reloaded.VocabSize);
        Assert.Equal(49406, reloaded.BosTokenId);
        Assert.Equal(49407, reloaded.EosTokenId);
        Assert.Equal(ClipPadding.EndToken, reloaded.Padding);
        foreach (var c in ClipTokenizerCases.All)
        {
            Assert.Equal(c.Ids, reloaded.Encode(c.Text));
        }
    }

    [Fact]
    public void Saved_vocab_json_is_the_transformers_token_to_id_map()
    {
        using var dir = TestPaths.NewTempDir();
        ClipTokenizer.CreateDefault().SaveTo(dir.Path);
        using var vocab = JsonDocument.Parse(File.ReadAllText(dir.File("vocab.json")));
        var map = vocab.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
        Assert.Equal(49408, map.Count);
        Assert.Equal(0, map["!"]);
        Assert.Equal(256, map["!</w>"]);
        Assert.Equal(2368, map["cat</w>"]);
        Assert.Equal(49406, map["<|startoftext|>"]);
        Assert.Equal(49407, map["<|endoftext|>"]);
        using var specials = JsonDocument.Parse(File.ReadAllText(dir.File("special_tokens_map.json")));
        Assert.Equal("<|endoftext|>", specials.RootElement.GetProperty("pad_token").GetString());
    }

    [Fact]
    public void Added_tokens_survive_save_and_reload()
    {
        var tokenizer = ClipTokenizer.CreateDefault();
        tokenizer.AddToken("<s0>");
        tokenizer.AddToken("<s1>");
        using var dir = TestPaths.NewTempDir();
        tokenizer.SaveTo(dir.Path);
        using (var added = JsonDocument.Parse(File.ReadAllText(dir.File("added_tokens.json"))))
        {
            Assert.Equal(49409, added.RootElement.GetProperty("<s1>").GetInt32());
        }

        var reloaded = ClipTokenizer.FromTransformersFolder(dir.Path);
        Assert.Equal(["<s0>", "<s1>"], reloaded.AddedTokens);
        Assert.Equal(tokenizer.Encode("<s0><s1> photo of <s2>"), reloaded.Encode("<s0><s1> photo of <s2>"));

        // Saving a tokenizer without added tokens into the same folder removes the stale file.
        ClipTokenizer.CreateDefault().SaveTo(dir.Path);
        Assert.False(File.Exists(dir.File("added_tokens.json")));
        Assert.Equal(49408, ClipTokenizer.FromTransformersFolder(dir.Path).VocabSize);
    }

    [Fact]
    public void Added_tokens_decoder_in_tokenizer_config_is_read_and_special_entries_are_checked()
    {
        using var dir = SavedDefault();
        File.WriteAllText(dir.File("tokenizer_config.json"), """
            {
              "added_tokens_decoder": {
                "49406": {"content": "<|startoftext|>", "lstrip": false, "normalized": true, "rstrip": false, "single_word": false, "special": true},
                "49407": {"content": "<|endoftext|>", "special": true},
                "49408": {"content": "<cat-toy>", "special": false}
              },
              "bos_token": {"__type": "AddedToken", "content": "<|startoftext|>"},
              "model_max_length": 77,
              "tokenizer_class": "CLIPTokenizer"
            }
            """);
        var tokenizer = ClipTokenizer.FromTransformersFolder(dir.Path);
        Assert.Equal(["<cat-toy>"], tokenizer.AddedTokens);
        Assert.Equal(49408, tokenizer.Encode("a <cat-toy> backpack")[1]);
    }

    [Fact]
    public void Sdxl_second_tokenizer_pad_token_selects_zero_padding()
    {
        using var dir = SavedDefault();
        File.WriteAllText(dir.File("special_tokens_map.json"), """
            {"bos_token": {"content": "<|startoftext|>", "lstrip": false}, "eos_token": "<|endoftext|>", "pad_token": "!", "unk_token": "<|endoftext|>"}
            """);
        var tokenizer = ClipTokenizer.FromTransformersFolder(dir.Path);
        Assert.Equal(ClipPadding.Zero, tokenizer.Padding);
        Assert.Equal(0, tokenizer.EncodeForModel("a photo of a cat").InputIds[76]);

        using var copy = TestPaths.NewTempDir();
        tokenizer.SaveTo(copy.Path);
        Assert.Equal(ClipPadding.Zero, ClipTokenizer.FromTransformersFolder(copy.Path).Padding);
    }

    [Fact]
    public void Original_vocabulary_file_loads_gzipped_and_as_plain_text()
    {
        var fromGzip = ClipTokenizer.FromBpeVocabularyFile(EmbeddedVocabularyFile);
        using var dir = TestPaths.NewTempDir();
        var plain = dir.File("bpe_simple_vocab_16e6.txt");
        using (var gz = new GZipStream(File.OpenRead(EmbeddedVocabularyFile), CompressionMode.Decompress))
        using (var output = File.Create(plain))
        {
            gz.CopyTo(output);
        }

        var fromText = ClipTokenizer.FromBpeVocabularyFile(plain);
        foreach (var c in ClipTokenizerCases.All)
        {
            Assert.Equal(c.Ids, fromGzip.Encode(c.Text));
            Assert.Equal(c.Ids, fromText.Encode(c.Text));
        }
    }

    [Fact]
    public void Missing_files_are_named()
    {
        using var dir = TestPaths.NewTempDir();
        Assert.Throws<DirectoryNotFoundException>(() => ClipTokenizer.FromTransformersFolder(dir.File("nope")));
        var vocab = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromTransformersFolder(dir.Path));
        Assert.Contains("vocab.json", vocab.Message, StringComparison.Ordinal);

        using var saved = SavedDefault();
        File.Delete(saved.File("merges.txt"));
        var merges = Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromTransformersFolder(saved.Path));
        Assert.Contains(saved.File("merges.txt"), merges.Message, StringComparison.Ordinal);

        Assert.Throws<FileNotFoundException>(() => ClipTokenizer.FromBpeVocabularyFile(dir.File("bpe.txt.gz")));
    }

    [Fact]
    public void Bad_json_names_the_file_and_line()
    {
        using var dir = SavedDefault();
        File.WriteAllText(dir.File("vocab.json"), "{\n  \"a\": 0,\n  \"b\": ,\n}\n");
        var error = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromTransformersFolder(dir.Path));
        Assert.Contains(dir.File("vocab.json") + ":3:", error.Message, StringComparison.Ordinal);

        File.WriteAllText(dir.File("vocab.json"), "[1, 2]");
        Assert.Contains("expected a JSON object", Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromTransformersFolder(dir.Path)).Message, StringComparison.Ordinal);

        File.WriteAllText(dir.File("vocab.json"), "{\"a\": \"zero\"}");
        Assert.Contains("entry \"a\"", Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromTransformersFolder(dir.Path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Vocab_ids_with_gaps_or_missing_byte_symbols_are_rejected()
    {
        using var dir = SavedDefault();
        File.WriteAllText(dir.File("vocab.json"), "{\"a\": 0, \"b\": 2}");
        var gap = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromTransformersFolder(dir.Path));
        Assert.Contains("\"b\" has id 2", gap.Message, StringComparison.Ordinal);

        File.WriteAllText(dir.File("vocab.json"), "{\"a\": 0, \"b\": 1}");
        var notClip = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromTransformersFolder(dir.Path));
        Assert.Contains("byte-level", notClip.Message, StringComparison.Ordinal);
        Assert.Contains("vocab.json", notClip.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_merges_lines_name_the_file_and_line()
    {
        using var dir = SavedDefault();
        var path = dir.File("merges.txt");
        var lines = File.ReadAllLines(path);
        lines[4] = "a b c";
        File.WriteAllLines(path, lines);
        var error = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromTransformersFolder(dir.Path));
        Assert.Contains(path + ":5:", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"a b c\"", error.Message, StringComparison.Ordinal);

        lines[4] = "qqqzzz xxxjjj";
        File.WriteAllLines(path, lines);
        var unknown = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromTransformersFolder(dir.Path));
        Assert.Contains(path + ":5:", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("not in", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_original_vocabulary_names_the_file_and_line()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("bpe.txt");
        File.WriteAllLines(path, ["bpe_simple_vocab_16e6.txt#version: 0.2", "i n", "th", "a n"]);
        var malformed = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromBpeVocabularyFile(path));
        Assert.Contains(path + ":3:", malformed.Message, StringComparison.Ordinal);

        File.WriteAllLines(path, ["bpe_simple_vocab_16e6.txt#version: 0.2", "i n", "t h"]);
        var shortFile = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromBpeVocabularyFile(path));
        Assert.Contains("ends after 2 merges", shortFile.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inconsistent_added_tokens_and_special_tokens_are_rejected()
    {
        using var dir = SavedDefault();
        File.WriteAllText(dir.File("added_tokens.json"), "{\"<s0>\": 49410}");
        var gap = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromTransformersFolder(dir.Path));
        Assert.Contains("added_tokens.json", gap.Message, StringComparison.Ordinal);
        Assert.Contains("49408", gap.Message, StringComparison.Ordinal);

        File.WriteAllText(dir.File("added_tokens.json"), "{\"<s0>\": 49406}");
        var clash = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromTransformersFolder(dir.Path));
        Assert.Contains("<|startoftext|>", clash.Message, StringComparison.Ordinal);

        File.WriteAllText(dir.File("added_tokens.json"), "{\"cat</w>\": 49408}");
        var duplicate = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromTransformersFolder(dir.Path));
        Assert.Contains("already contains", duplicate.Message, StringComparison.Ordinal);

        File.Delete(dir.File("added_tokens.json"));
        File.WriteAllText(dir.File("special_tokens_map.json"), "{\"pad_token\": \"cat</w>\"}");
        var pad = Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromTransformersFolder(dir.Path));
        Assert.Contains("special_tokens_map.json", pad.Message, StringComparison.Ordinal);
        Assert.Contains("pad_token", pad.Message, StringComparison.Ordinal);

        File.WriteAllText(dir.File("special_tokens_map.json"), "{\"eos_token\": \"<eos>\"}");
        Assert.Contains("<eos>", Assert.Throws<InvalidDataException>(() => ClipTokenizer.FromTransformersFolder(dir.Path)).Message, StringComparison.Ordinal);
    }

    private static TempDir SavedDefault()
    {
        var dir = TestPaths.NewTempDir();
        ClipTokenizer.CreateDefault().SaveTo(dir.Path);
        return dir;
    }
}
