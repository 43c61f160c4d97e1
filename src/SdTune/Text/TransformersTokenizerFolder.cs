using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace SdTune.Text;

/// <summary>What a transformers <c>CLIPTokenizer</c> folder holds, resolved to ids.</summary>
/// <param name="Vocabulary">The base vocabulary and merges (vocab.json + merges.txt).</param>
/// <param name="BosTokenId">Id of the start token.</param>
/// <param name="EosTokenId">Id of the end token.</param>
/// <param name="Padding">The padding its <c>pad_token</c> asks for.</param>
/// <param name="AddedTokens">Added tokens in id order (ids continue the vocabulary), each with the file that listed it.</param>
internal sealed record TransformersTokenizerContent(
    ClipVocabulary Vocabulary,
    int BosTokenId,
    int EosTokenId,
    ClipPadding Padding,
    IReadOnlyList<(string Token, string Source)> AddedTokens);

/// <summary>
/// Reads and writes the tokenizer folder of a diffusers pipeline (<c>tokenizer/</c>, <c>tokenizer_2/</c>) in the
/// transformers format: <c>vocab.json</c> (token to id), <c>merges.txt</c> ("#version" header, then "left right"
/// per line, in rank order), and optionally <c>special_tokens_map.json</c>, <c>tokenizer_config.json</c> and
/// <c>added_tokens.json</c>.
/// </summary>
internal static class TransformersTokenizerFolder
{
    public const string VocabFile = "vocab.json";
    public const string MergesFile = "merges.txt";
    public const string SpecialTokensMapFile = "special_tokens_map.json";
    public const string TokenizerConfigFile = "tokenizer_config.json";
    public const string AddedTokensFile = "added_tokens.json";

    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Reads a folder; errors name the file (and line where there is one).</summary>
    public static TransformersTokenizerContent Read(string folder)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"Tokenizer folder not found: {folder}");
        }

        var vocabPath = Path.Combine(folder, VocabFile);
        var mergesPath = Path.Combine(folder, MergesFile);
        var vocabulary = new ClipVocabulary(ReadVocab(vocabPath), ReadMerges(mergesPath), vocabPath, mergesPath);

        // tokenizer_config.json first; special_tokens_map.json overrides it, as in transformers.
        var special = new Dictionary<string, (string? Content, string Source)>(StringComparer.Ordinal);
        var added = new SortedDictionary<int, (string Token, string Source)>();
        var configPath = Path.Combine(folder, TokenizerConfigFile);
        if (File.Exists(configPath))
        {
            using var config = ParseJson(configPath);
            ReadSpecialTokens(config.RootElement, configPath, special);
            if (config.RootElement.TryGetProperty("added_tokens_decoder", out var decoder) && decoder.ValueKind == JsonValueKind.Object)
            {
                foreach (var entry in decoder.EnumerateObject())
                {
                    if (!int.TryParse(entry.Name, out var id))
                    {
                        throw new InvalidDataException($"{configPath}: added_tokens_decoder key \"{entry.Name}\" is not an integer id.");
                    }

                    var content = TokenContent(entry.Value)
                        ?? throw new InvalidDataException($"{configPath}: added_tokens_decoder entry {id} has no \"content\" string.");
                    AddAddedToken(added, id, content, configPath);
                }
            }
        }

        var mapPath = Path.Combine(folder, SpecialTokensMapFile);
        if (File.Exists(mapPath))
        {
            using var map = ParseJson(mapPath);
            ReadSpecialTokens(map.RootElement, mapPath, special);
        }

        var addedPath = Path.Combine(folder, AddedTokensFile);
        if (File.Exists(addedPath))
        {
            using var addedJson = ParseJson(addedPath);
            foreach (var entry in RequireObject(addedJson.RootElement, addedPath).EnumerateObject())
            {
                if (!TryGetId(entry.Value, out var id))
                {
                    throw new InvalidDataException($"{addedPath}: entry \"{entry.Name}\" has value {entry.Value.GetRawText()}; expected an integer id.");
                }

                AddAddedToken(added, id, entry.Name, addedPath);
            }
        }

        var addedTokens = new List<(string Token, string Source)>();
        foreach (var (id, (token, source)) in added)
        {
            if (id < vocabulary.Count)
            {
                // transformers also lists the special tokens (49406, 49407) as added tokens: they must agree with vocab.json.
                if (!string.Equals(vocabulary.GetToken(id), token, StringComparison.Ordinal))
                {
                    throw new InvalidDataException($"{source}: added token \"{token}\" has id {id}, which {vocabPath} gives to \"{vocabulary.GetToken(id)}\".");
                }

                continue;
            }

            var expected = vocabulary.Count + addedTokens.Count;
            if (id != expected)
            {
                throw new InvalidDataException($"{source}: added token \"{token}\" has id {id}; added ids must continue the vocabulary without gaps, so the next one is {expected}.");
            }

            addedTokens.Add((token, source));
        }

        int Resolve(string key, string fallback)
        {
            var (content, source) = special.TryGetValue(key, out var found) && found.Content is not null ? found : (fallback, vocabPath);
            return vocabulary.TryGetId(content!, out var id)
                ? id
                : throw new InvalidDataException($"{source}: {key} \"{content}\" is not in {vocabPath}.");
        }

        var bos = Resolve("bos_token", ClipPreTokenizer.StartOfText);
        var eos = Resolve("eos_token", ClipPreTokenizer.EndOfText);
        var pad = Resolve("pad_token", ClipPreTokenizer.EndOfText);
        var padding = pad == eos ? ClipPadding.EndToken
            : pad == 0 ? ClipPadding.Zero
            : throw new InvalidDataException(
                $"{special["pad_token"].Source}: pad_token \"{special["pad_token"].Content}\" (id {pad}) is neither the end token nor id 0; only those two paddings are supported.");
        return new TransformersTokenizerContent(vocabulary, bos, eos, padding, addedTokens);
    }

    /// <summary>Writes a folder that transformers' <c>CLIPTokenizer.from_pretrained</c> (and <see cref="Read"/>) loads.</summary>
    public static void Write(string folder, ClipVocabulary vocabulary, string bos, string eos, string pad, IReadOnlyList<string> addedTokens)
    {
        Directory.CreateDirectory(folder);
        WriteJson(Path.Combine(folder, VocabFile), w =>
        {
            for (var id = 0; id < vocabulary.Count; id++)
            {
                w.WriteNumber(vocabulary.GetToken(id), id);
            }
        });

        using (var merges = new StreamWriter(Path.Combine(folder, MergesFile), false, Utf8NoBom))
        {
            merges.NewLine = "\n";
            merges.WriteLine("#version: 0.2");
            foreach (var (left, right) in vocabulary.Merges)
            {
                merges.Write(left);
                merges.Write(' ');
                merges.WriteLine(right);
            }
        }

        void SpecialTokens(Utf8JsonWriter w)
        {
            w.WriteString("bos_token", bos);
            w.WriteString("eos_token", eos);
            w.WriteString("unk_token", eos);
            w.WriteString("pad_token", pad);
        }

        WriteJson(Path.Combine(folder, SpecialTokensMapFile), SpecialTokens);
        WriteJson(Path.Combine(folder, TokenizerConfigFile), w =>
        {
            w.WriteString("tokenizer_class", "CLIPTokenizer");
            w.WriteBoolean("do_lower_case", true);
            w.WriteNumber("model_max_length", ClipTokenizer.DefaultMaxLength);
            w.WriteString("errors", "replace");
            w.WriteBoolean("add_prefix_space", false);
            SpecialTokens(w);
        });

        var addedPath = Path.Combine(folder, AddedTokensFile);
        if (addedTokens.Count == 0)
        {
            // A stale file from an earlier save would otherwise come back on the next load.
            File.Delete(addedPath);
        }
        else
        {
            WriteJson(addedPath, w =>
            {
                for (var k = 0; k < addedTokens.Count; k++)
                {
                    w.WriteNumber(addedTokens[k], vocabulary.Count + k);
                }
            });
        }
    }

    private static string[] ReadVocab(string path)
    {
        using var json = ParseJson(path);
        var root = RequireObject(json.RootElement, path);
        var count = root.EnumerateObject().Count();
        var tokens = new string?[count];
        foreach (var entry in root.EnumerateObject())
        {
            if (!TryGetId(entry.Value, out var id))
            {
                throw new InvalidDataException($"{path}: entry \"{entry.Name}\" has value {entry.Value.GetRawText()}; expected an integer id.");
            }

            if (id < 0 || id >= count || tokens[id] is not null)
            {
                throw new InvalidDataException(
                    $"{path}: entry \"{entry.Name}\" has id {id}; the {count} ids must be 0..{count - 1}, each used once.");
            }

            tokens[id] = entry.Name;
        }

        return tokens!;
    }

    private static List<BpeMerge> ReadMerges(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Tokenizer merges file not found: {path}", path);
        }

        var merges = new List<BpeMerge>(OriginalBpeVocabularyFile.MergeCount);
        var lineNumber = 0;
        var blankLine = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            lineNumber++;
            if (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal))
            {
                continue;
            }

            if (line.Length == 0)
            {
                blankLine = blankLine == 0 ? lineNumber : blankLine;
                continue;
            }

            if (blankLine != 0)
            {
                throw new InvalidDataException($"{path}:{blankLine}: empty line inside the merges list.");
            }

            merges.Add(OriginalBpeVocabularyFile.ParseMerge(line, lineNumber, path));
        }

        return merges;
    }

    private static void ReadSpecialTokens(JsonElement root, string path, Dictionary<string, (string? Content, string Source)> special)
    {
        foreach (var key in (string[])["bos_token", "eos_token", "pad_token"])
        {
            if (RequireObject(root, path).TryGetProperty(key, out var value))
            {
                var content = value.ValueKind == JsonValueKind.Null
                    ? null
                    : TokenContent(value) ?? throw new InvalidDataException($"{path}: {key} must be a string or an object with a \"content\" string.");
                special[key] = (content, path);
            }
        }
    }

    private static bool TryGetId(JsonElement value, out int id)
    {
        id = 0;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out id);
    }

    // A token is written either as a plain string or as an AddedToken object {"content": ..., "lstrip": ...}.
    private static string? TokenContent(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Object when value.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String => content.GetString(),
        _ => null,
    };

    private static void AddAddedToken(SortedDictionary<int, (string Token, string Source)> added, int id, string token, string source)
    {
        if (!added.TryGetValue(id, out var existing))
        {
            added[id] = (token, source);
        }
        else if (!string.Equals(existing.Token, token, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{source}: id {id} is given to \"{token}\", but {existing.Source} gives it to \"{existing.Token}\".");
        }
    }

    private static JsonDocument ParseJson(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Tokenizer file not found: {path}", path);
        }

        try
        {
            using var stream = File.OpenRead(path);
            return IO.StrictJson.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException(ex.LineNumber is { } line ? $"{path}:{line + 1}: invalid JSON ({ex.Message})" : $"{path}: invalid JSON ({ex.Message})", ex);
        }
    }

    private static JsonElement RequireObject(JsonElement element, string path) =>
        element.ValueKind == JsonValueKind.Object
            ? element
            : throw new InvalidDataException($"{path}: expected a JSON object at the top level, found {element.ValueKind}.");

    private static void WriteJson(string path, Action<Utf8JsonWriter> writeProperties)
    {
        using var stream = File.Create(path);
        using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        writer.WriteStartObject();
        writeProperties(writer);
        writer.WriteEndObject();
    }
}
