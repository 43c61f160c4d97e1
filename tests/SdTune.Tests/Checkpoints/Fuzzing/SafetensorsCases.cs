using System.Globalization;
using System.Text;

namespace SdTune.Tests.Checkpoints.Fuzzing;

/// <summary>
/// Grammar-aware safetensors inputs: a valid file (random tensors, dtypes, shapes, names and kohya-like metadata,
/// in a random data layout) is built as a JSON tree, changed at the JSON level — escapes, lone surrogates, numbers
/// out of range, negative, fractional or huge, huge and negative shapes, duplicate keys (also ones that differ only
/// by escaping), deep nesting, trailing data, wrong types, overlapping and gapped offsets — and rendered; some
/// cases are then damaged byte by byte. Each JSON change knows whether the format allows it, so the case knows
/// whether it must load or be rejected.
/// </summary>
internal static class SafetensorsCases
{
    // The UTF-8 of U+E000 marks where raw invalid UTF-8 is spliced in after rendering.
    private const char InvalidUtf8Marker = '\uE000';

    private static readonly (string Name, int Size)[] DTypes =
        [("F64", 8), ("F32", 4), ("F16", 2), ("BF16", 2), ("I64", 8), ("I32", 4), ("I16", 2), ("I8", 1), ("U8", 1), ("BOOL", 1)];

    private static readonly string[] NameParts =
        ["lora_unet_down_blocks_0", ".lora_down.weight", ".alpha", "model.diffusion_model.input_blocks.1.0", "emb_params", "é", "✓", "\U0001F600",
         "\"q\"", "back\\slash", "tab\t", "nl\n", "__metadata", "x", ""];

    private static readonly string[] MetadataValues =
        ["4", "1.0", "networks.lora", """{"conv_dim": "8", "algo": "locon"}""", "{\"a\": {\"b\": [1, 2]}}", "ünïcødé ✓ \U0001F600",
         "line\nbreak\ttab \"quoted\" back\\slash", "", "\\udc80 is only text here"];

    private static readonly string[] BadNumbers =
        ["-1", "1.5", "1e2", "1E+2", "2.0", "99999999999999999999", "18446744073709551616", "9223372036854775808", "\"4\"", "null", "true",
         "[]", "{}", "01", "+1", "NaN", "Infinity", "-", "0x10", "1.", "-9223372036854775809"];

    private static readonly string[] Garbage = ["x", "\0", "{}", "\0\0\0\0\0\0\0", "/", "\u00a0", "]", ",", "null", "  \0"];

    private delegate FuzzExpectation Mutation(Header header, Random random, StringBuilder log);

    private static readonly Mutation[] Allowed = [EscapeCharacters, AddIgnoredField, PadWithWhitespace, SpaceTokens, NullMetadata, ShuffleMembers, AddUnitDimensions];

    private static readonly Mutation[] Forbidden =
        [InsertLoneSurrogate, BreakANumber, HugeOrNegativeShape, DuplicateAKey, NestDeeply, AppendGarbage, WrongType, BreakTheLayout,
         DropAField, BadDType, LeadingBytes, InvalidUtf8, InsertComment];

    public static FuzzCase Generate(Random random)
    {
        var header = Header.CreateValid(random);
        var log = new StringBuilder();
        var expectation = FuzzExpectation.Load;
        var kind = random.Next(20);

        // Changes the format allows first, then at most one it forbids (which no later change can undo).
        for (var i = kind < 4 ? 0 : random.Next(kind < 8 ? 1 : 0, 3); i > 0; i--)
        {
            Allowed[random.Next(Allowed.Length)](header, random, log);
        }

        if (kind >= 8)
        {
            expectation = Forbidden[random.Next(Forbidden.Length)](header, random, log);
        }

        var bytes = header.Render(random);
        if (random.Next(6) > 0)
        {
            return new FuzzCase(bytes, log.Length == 0 ? "valid" : log.ToString(), expectation);
        }

        for (var i = random.Next(1, 3); i > 0; i--)
        {
            (bytes, var damage) = ByteMutations.Apply(bytes, random);
            log.Append("then ").Append(damage).Append("; ");
        }

        return new FuzzCase(bytes, log.ToString(), FuzzExpectation.Either);
    }

    private static FuzzExpectation EscapeCharacters(Header header, Random random, StringBuilder log)
    {
        var (owner, index, text) = header.PickString(random, includeKeys: true);
        var escaped = new StringBuilder();
        for (var i = 0; i < text.Escaped.Length; i++)
        {
            var c = text.Escaped[i];
            if (c == '\\')
            {
                var length = text.Escaped[i + 1] == 'u' ? 6 : 2;
                escaped.Append(text.Escaped, i, length);
                i += length - 1;
            }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Escaped.Length)
            {
                escaped.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}\\u{(int)text.Escaped[++i]:X4}");
            }
            else
            {
                escaped.Append(random.Next(2) == 0 ? $"\\u{(int)c:x4}" : c.ToString());
            }
        }

        owner.Replace(index, new JsonStringText(escaped.ToString()));
        log.Append("characters escaped as \\uXXXX; ");
        return FuzzExpectation.Load;
    }

    private static FuzzExpectation AddIgnoredField(Header header, Random random, StringBuilder log)
    {
        if (header.TensorEntries().FirstOrDefault() is not { } entry)
        {
            return FuzzExpectation.Load;
        }

        var depth = random.Next(0, 40);
        entry.Members.Insert(random.Next(entry.Members.Count + 1), (new JsonStringText("x_" + random.Next(1000)), Nested(depth, random)));
        log.Append(CultureInfo.InvariantCulture, $"ignored field nested {depth} deep; ");
        return FuzzExpectation.Load;
    }

    private static FuzzExpectation PadWithWhitespace(Header header, Random random, StringBuilder log)
    {
        header.Trailing += random.Next(2) == 0 ? new string(' ', random.Next(1, 8)) : new string([.. Enumerable.Range(0, random.Next(1, 9)).Select(_ => " \n\t\r"[random.Next(4)])]);
        log.Append("whitespace padding; ");
        return FuzzExpectation.Load;
    }

    private static FuzzExpectation SpaceTokens(Header header, Random random, StringBuilder log)
    {
        header.Spaced = true;
        log.Append("whitespace between tokens; ");
        return FuzzExpectation.Load;
    }

    private static FuzzExpectation NullMetadata(Header header, Random random, StringBuilder log)
    {
        header.Root.Members.RemoveAll(m => m.Key.Content == "__metadata__");
        header.Root.Members.Insert(random.Next(header.Root.Members.Count + 1), (new JsonStringText("__metadata__"), new JsonRawText("null")));
        log.Append("__metadata__ null; ");
        return FuzzExpectation.Load;
    }

    private static FuzzExpectation ShuffleMembers(Header header, Random random, StringBuilder log)
    {
        var target = random.Next(2) == 0 ? header.Root : header.TensorEntries().FirstOrDefault() ?? header.Root;
        var shuffled = target.Members.OrderBy(_ => random.Next()).ToList();
        target.Members.Clear();
        target.Members.AddRange(shuffled);
        log.Append("members reordered; ");
        return FuzzExpectation.Load;
    }

    private static FuzzExpectation AddUnitDimensions(Header header, Random random, StringBuilder log)
    {
        if (header.TensorEntries().Select(e => e.Get("shape")).OfType<JsonArrayText>().FirstOrDefault() is not { } shape)
        {
            return FuzzExpectation.Load;
        }

        int[] counts = [1, 8, 60, 64, 65, 200];
        var count = counts[random.Next(counts.Length)];
        shape.Items.AddRange(Enumerable.Repeat<JsonText>(new JsonRawText("1"), count));
        log.Append(CultureInfo.InvariantCulture, $"{count} dimensions of size 1 added; ");
        return FuzzExpectation.Load;
    }

    private static FuzzExpectation InsertLoneSurrogate(Header header, Random random, StringBuilder log)
    {
        var (owner, index, text) = header.PickString(random, includeKeys: true);
        var lone = random.Next(4) switch
        {
            0 => "\\ud800",
            1 => "\\udc80",
            2 => "\\ud83d\\u0041",
            _ => $"\\u{random.Next(0xD800, 0xE000):x4}",
        };
        var lone2 = lone.Length == 6 && char.IsHighSurrogate((char)int.Parse(lone.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture)) ? lone + "x" : lone;
        owner.Replace(index, new JsonStringText(InsertAtBoundary(text.Escaped, lone2, random)));
        log.Append(CultureInfo.InvariantCulture, $"lone surrogate {lone} in a string; ");
        return FuzzExpectation.Reject;
    }

    private static FuzzExpectation BreakANumber(Header header, Random random, StringBuilder log)
    {
        var numbers = header.Numbers().ToList();
        if (numbers.Count == 0)
        {
            return InsertLoneSurrogate(header, random, log);
        }

        var (array, index) = numbers[random.Next(numbers.Count)];
        var bad = BadNumbers[random.Next(BadNumbers.Length)];
        array.Items[index] = new JsonRawText(bad);
        log.Append(CultureInfo.InvariantCulture, $"number replaced by {bad}; ");
        return FuzzExpectation.Reject;
    }

    private static FuzzExpectation HugeOrNegativeShape(Header header, Random random, StringBuilder log)
    {
        if (header.TensorEntries().FirstOrDefault(e => e.Get("shape") is JsonArrayText) is not { } entry)
        {
            return AppendGarbage(header, random, log);
        }

        string[] shapes = ["4611686018427387904, 4", "4294967296, 4294967296", "-5", "9223372036854775807", "3037000500, 3037000500, 8",
            string.Join(", ", Enumerable.Repeat("2", 70)), "0, -1", "1000000, 1000000, 1000000"];
        var shape = shapes[random.Next(shapes.Length)];
        ((JsonArrayText)entry.Get("shape")!).Items.Clear();
        ((JsonArrayText)entry.Get("shape")!).Items.AddRange(shape.Split(", ").Select(d => (JsonText)new JsonRawText(d)));
        log.Append(CultureInfo.InvariantCulture, $"shape [{(shape.Length > 30 ? shape[..30] + "..." : shape)}]; ");
        return FuzzExpectation.Reject;
    }

    private static FuzzExpectation DuplicateAKey(Header header, Random random, StringBuilder log)
    {
        var entries = header.TensorEntries().ToList();
        switch (random.Next(4))
        {
            case 0 when header.Root.Members.Count > 0:
                var member = header.Root.Members[random.Next(header.Root.Members.Count)];
                header.Root.Members.Insert(random.Next(header.Root.Members.Count + 1), member);
                log.Append("a top-level key twice; ");
                return FuzzExpectation.Reject;
            case 1 when header.TensorMembers().Any(m => m.Key.Escaped.Length > 0 && !m.Key.Escaped.Contains('\\', StringComparison.Ordinal)):
                var tensor = header.TensorMembers().First(m => m.Key.Escaped.Length > 0 && !m.Key.Escaped.Contains('\\', StringComparison.Ordinal));
                var spelled = $"\\u{(int)tensor.Key.Escaped[0]:x4}{tensor.Key.Escaped[1..]}";
                header.Root.Members.Add((new JsonStringText(spelled), tensor.Value));
                log.Append("a tensor name twice, spelled differently; ");
                return FuzzExpectation.Reject;
            case 2 when entries.Count > 0:
                var entry = entries[random.Next(entries.Count)];
                var known = entry.Members.Where(m => m.Key.Content is "dtype" or "shape" or "data_offsets").ToList();
                var field = known[random.Next(known.Count)]; // repeated ignored fields are ignored, by the reference too
                entry.Members.Add(field);
                log.Append(CultureInfo.InvariantCulture, $"field {field.Key.Escaped} twice; ");
                return FuzzExpectation.Reject;
            default:
                header.Metadata().Members.Add((new JsonStringText("k"), new JsonStringText("1")));
                header.Metadata().Members.Add((new JsonStringText("\\u006b"), new JsonStringText("2")));
                log.Append("a metadata key twice; ");
                return FuzzExpectation.Reject;
        }
    }

    private static FuzzExpectation NestDeeply(Header header, Random random, StringBuilder log)
    {
        var entry = header.TensorEntries().FirstOrDefault();
        int[] depths = [70, 1000, 100_000];
        var depth = depths[random.Next(depths.Length)];
        var target = entry ?? header.Root;
        target.Members.Add((new JsonStringText("deep"), Nested(depth, random)));
        log.Append(CultureInfo.InvariantCulture, $"nested {depth} deep; ");
        return FuzzExpectation.Reject;
    }

    private static FuzzExpectation AppendGarbage(Header header, Random random, StringBuilder log)
    {
        var garbage = Garbage[random.Next(Garbage.Length)];
        header.Trailing += garbage;
        log.Append(CultureInfo.InvariantCulture, $"trailing {Visible(garbage)}; ");
        return FuzzExpectation.Reject;
    }

    private static FuzzExpectation WrongType(Header header, Random random, StringBuilder log)
    {
        string[] values = ["32", "null", "[\"F32\"]", "{\"a\":1}", "\"2\"", "true", "[[1]]", "[0,4,8]", "[0]", "{}", "[]"];
        var value = new JsonRawText(values[random.Next(values.Length)]);
        var entry = header.TensorEntries().FirstOrDefault();
        if (entry is null || random.Next(4) == 0)
        {
            header.Metadata().Members.Add((new JsonStringText("typed"), value.Raw == "\"2\"" ? new JsonRawText("2") : value));
            log.Append(CultureInfo.InvariantCulture, $"metadata value {value.Raw}; ");
            return FuzzExpectation.Reject;
        }

        var fields = entry.Members.Where(m => m.Key.Content is "dtype" or "shape" or "data_offsets").ToList();
        var field = fields[random.Next(fields.Count)];
        if (field.Key.Content == "shape" && value.Raw is "[]" or "[0]" or "[0,4,8]")
        {
            value = new JsonRawText("{}"); // an array of counts can be a right shape
        }

        entry.Members[entry.Members.IndexOf(field)] = (field.Key, value);
        log.Append(CultureInfo.InvariantCulture, $"{field.Key.Content} = {value.Raw}; ");
        return FuzzExpectation.Reject;
    }

    private static FuzzExpectation BreakTheLayout(Header header, Random random, StringBuilder log)
    {
        var withData = header.Tensors.Where(t => t.Bytes > 0).ToList();
        if (withData.Count == 0)
        {
            return DropAField(header, random, log);
        }

        var tensor = withData[random.Next(withData.Count)];
        switch (random.Next(3))
        {
            case 0: // overlap or leave a gap by moving one tensor's range
                var shift = random.Next(2) == 0 ? -1 : 1;
                tensor.Begin += shift;
                tensor.End += shift;
                log.Append("a tensor's data range shifted by one byte; ");
                break;
            case 1: // the file holds more data than the tensors cover
                header.ExtraData += random.Next(1, 9);
                log.Append("data bytes no tensor covers; ");
                break;
            default: // one range runs past the end
                tensor.End = header.DataLength + random.Next(1, 1 << 20);
                log.Append("a range past the end; ");
                break;
        }

        header.Rewrite(tensor);
        return FuzzExpectation.Reject;
    }

    private static FuzzExpectation DropAField(Header header, Random random, StringBuilder log)
    {
        if (header.TensorEntries().FirstOrDefault() is not { } entry)
        {
            return AppendGarbage(header, random, log);
        }

        var index = entry.Members.FindIndex(m => m.Key.Content is "dtype" or "shape" or "data_offsets");
        log.Append(CultureInfo.InvariantCulture, $"field {entry.Members[index].Key.Content} dropped; ");
        entry.Members.RemoveAt(index);
        return FuzzExpectation.Reject;
    }

    private static FuzzExpectation BadDType(Header header, Random random, StringBuilder log)
    {
        if (header.TensorEntries().FirstOrDefault() is not { } entry)
        {
            return AppendGarbage(header, random, log);
        }

        string[] names = ["f32", "F8_E4M3", "", "F32 ", "float32", "C64", "F3\\u0032x"];
        var name = names[random.Next(names.Length)];
        var index = entry.Members.FindIndex(m => m.Key.Content == "dtype");
        entry.Members[index] = (entry.Members[index].Key, new JsonStringText(name));
        log.Append(CultureInfo.InvariantCulture, $"dtype '{name}'; ");
        return FuzzExpectation.Reject;
    }

    private static FuzzExpectation LeadingBytes(Header header, Random random, StringBuilder log)
    {
        string[] leads = [" ", "\n", "\uFEFF", "[", "\0"];
        header.Leading = leads[random.Next(leads.Length)];
        log.Append(CultureInfo.InvariantCulture, $"header starts with {Visible(header.Leading)}; ");
        return FuzzExpectation.Reject;
    }

    private static FuzzExpectation InvalidUtf8(Header header, Random random, StringBuilder log)
    {
        var (owner, index, text) = header.PickString(random, includeKeys: true);
        owner.Replace(index, new JsonStringText(InsertAtBoundary(text.Escaped, InvalidUtf8Marker.ToString(), random)));
        header.InvalidUtf8 = random.Next(4) switch
        {
            0 => [0xff],
            1 => [0xc0, 0x80], // overlong NUL
            2 => [0xed, 0xa0, 0x80], // an encoded surrogate
            _ => [0xe2, 0x82], // cut short
        };
        log.Append("raw invalid UTF-8 in a string; ");
        return FuzzExpectation.Reject;
    }

    private static FuzzExpectation InsertComment(Header header, Random random, StringBuilder log)
    {
        header.Root.Members.Insert(0, (new JsonStringText("/*c*/\"a"), new JsonRawText("1")));
        log.Append("a comment; ");
        return FuzzExpectation.Reject;
    }

    private static JsonText Nested(int depth, Random random)
    {
        if (depth > 50)
        {
            return new JsonDeepText(depth);
        }

        JsonText value = new JsonRawText(random.Next(2) == 0 ? "1" : "\"leaf\"");
        for (var i = 0; i < depth; i++)
        {
            value = random.Next(2) == 0 ? new JsonArrayText([value]) : new JsonObjectText([(new JsonStringText("n"), value)]);
        }

        return value;
    }

    // A position between characters or whole escapes, so the insertion does not split an escape sequence.
    private static string InsertAtBoundary(string escaped, string insert, Random random)
    {
        var boundaries = new List<int> { 0 };
        for (var i = 0; i < escaped.Length; i++)
        {
            if (escaped[i] == '\\')
            {
                i += escaped[i + 1] == 'u' ? 5 : 1;
            }
            else if (char.IsHighSurrogate(escaped[i]))
            {
                i++;
            }

            boundaries.Add(i + 1);
        }

        var at = boundaries[random.Next(boundaries.Count)];
        return escaped[..at] + insert + escaped[at..];
    }

    private static string Visible(string text) => string.Concat(text.Select(c => c < ' ' || c > '~' ? $"\\u{(int)c:x4}" : c.ToString()));

    /// <summary>A safetensors header under construction: the JSON tree, the tensors' data layout and framing bytes.</summary>
    private sealed class Header
    {
        public JsonObjectText Root { get; } = new([]);

        public List<TensorDraft> Tensors { get; } = [];

        public string Leading { get; set; } = "";

        public string Trailing { get; set; } = "";

        public bool Spaced { get; set; }

        public int ExtraData { get; set; }

        public byte[]? InvalidUtf8 { get; set; }

        public long DataLength => Tensors.Sum(t => (long)t.Bytes);

        public static Header CreateValid(Random random)
        {
            var header = new Header();
            var names = new HashSet<string>(StringComparer.Ordinal);
            for (var n = random.Next(6) == 0 ? 0 : random.Next(1, 6); names.Count < n;)
            {
                var name = string.Concat(Enumerable.Range(0, random.Next(1, 4)).Select(_ => NameParts[random.Next(NameParts.Length)]));
                if (name != "__metadata__" && names.Add(name))
                {
                    var (dtype, size) = DTypes[random.Next(DTypes.Length)];
                    var shape = Enumerable.Range(0, random.Next(5)).Select(_ => (long)random.Next(6)).ToArray();
                    header.Tensors.Add(new TensorDraft(name, dtype, shape, (int)(shape.Aggregate(1L, (a, b) => a * b) * size)));
                }
            }

            // Data in a random order: the layout need not follow the header's order.
            long offset = 0;
            foreach (var tensor in header.Tensors.OrderBy(_ => random.Next()))
            {
                (tensor.Begin, tensor.End) = (offset, offset + tensor.Bytes);
                offset += tensor.Bytes;
            }

            foreach (var tensor in header.Tensors)
            {
                var fields = new List<(JsonStringText, JsonText)>
                {
                    (new JsonStringText("dtype"), new JsonStringText(tensor.DType)),
                    (new JsonStringText("shape"), new JsonArrayText([.. tensor.Shape.Select(d => (JsonText)new JsonRawText(d.ToString(CultureInfo.InvariantCulture)))])),
                    (new JsonStringText("data_offsets"), Offsets(tensor)),
                };
                tensor.Entry = new JsonObjectText([.. fields.OrderBy(_ => random.Next())]);
                header.Root.Members.Add((JsonStringText.Of(tensor.Name), tensor.Entry));
            }

            if (random.Next(3) > 0)
            {
                var metadata = new JsonObjectText([]);
                var keys = new HashSet<string>(StringComparer.Ordinal);
                for (var i = random.Next(5); i > 0; i--)
                {
                    var key = random.Next(3) switch { 0 => "ss_network_dim", 1 => "modelspec.title", _ => "clé ✓ " + random.Next(100) };
                    if (keys.Add(key))
                    {
                        metadata.Members.Add((JsonStringText.Of(key), JsonStringText.Of(MetadataValues[random.Next(MetadataValues.Length)])));
                    }
                }

                header.Root.Members.Insert(random.Next(header.Root.Members.Count + 1), (new JsonStringText("__metadata__"), metadata));
            }

            return header;
        }

        public IEnumerable<JsonObjectText> TensorEntries() => Tensors.Select(t => t.Entry!);

        public IEnumerable<(JsonStringText Key, JsonText Value)> TensorMembers() => Root.Members.Where(m => m.Key.Content != "__metadata__");

        public JsonObjectText Metadata()
        {
            if (Root.Get("__metadata__") is JsonObjectText metadata)
            {
                return metadata;
            }

            metadata = new JsonObjectText([]);
            Root.Members.RemoveAll(m => m.Key.Content == "__metadata__");
            Root.Members.Add((new JsonStringText("__metadata__"), metadata));
            return metadata;
        }

        /// <summary>Every number of a shape or data_offsets array, as (array, index).</summary>
        public IEnumerable<(JsonArrayText Array, int Index)> Numbers() =>
            TensorEntries().SelectMany(e => e.Members).Where(m => m.Key.Content is "shape" or "data_offsets").Select(m => m.Value).OfType<JsonArrayText>()
                .SelectMany(a => Enumerable.Range(0, a.Items.Count).Where(i => a.Items[i] is JsonRawText).Select(i => (a, i)));

        /// <summary>
        /// A key or string value the reader decodes (tensor names, field names, dtypes, metadata), with a way to replace
        /// it. Values of ignored fields are skipped undecoded, by the reference too, so they are not candidates.
        /// </summary>
        public (IStringOwner Owner, int Index, JsonStringText Text) PickString(Random random, bool includeKeys)
        {
            var candidates = new List<(IStringOwner, int, JsonStringText)>();
            void Collect(JsonObjectText obj)
            {
                for (var i = 0; i < obj.Members.Count; i++)
                {
                    if (includeKeys)
                    {
                        candidates.Add((new KeyOwner(obj), i, obj.Members[i].Key));
                    }

                    var decoded = ReferenceEquals(obj, Root) || ReferenceEquals(obj, Root.Get("__metadata__")) || obj.Members[i].Key.Content == "dtype";
                    switch (obj.Members[i].Value)
                    {
                        case JsonStringText text when decoded:
                            candidates.Add((new ValueOwner(obj), i, text));
                            break;
                        case JsonObjectText inner when ReferenceEquals(obj, Root):
                            Collect(inner);
                            break;
                    }
                }
            }

            Collect(Root);
            if (candidates.Count == 0)
            {
                Root.Members.Add((new JsonStringText("__metadata__"), new JsonObjectText([(new JsonStringText("k"), new JsonStringText("v"))])));
                return PickString(random, includeKeys);
            }

            return candidates[random.Next(candidates.Count)];
        }

        public void Rewrite(TensorDraft tensor)
        {
            var index = tensor.Entry!.Members.FindIndex(m => m.Key.Content == "data_offsets");
            if (index >= 0)
            {
                tensor.Entry.Members[index] = (tensor.Entry.Members[index].Key, Offsets(tensor));
            }
        }

        public byte[] Render(Random random)
        {
            var text = new StringBuilder(Leading);
            Root.Render(text, random, Spaced);
            text.Append(Trailing);
            var json = Encoding.UTF8.GetBytes(text.ToString());
            if (InvalidUtf8 is not null)
            {
                var marker = Encoding.UTF8.GetBytes(InvalidUtf8Marker.ToString());
                var at = json.AsSpan().IndexOf(marker);
                json = at < 0 ? json : [.. json[..at], .. InvalidUtf8, .. json[(at + marker.Length)..]];
            }

            var data = new byte[DataLength + ExtraData];
            random.NextBytes(data);
            return [.. BitConverter.GetBytes((long)json.Length), .. json, .. data];
        }

        private static JsonArrayText Offsets(TensorDraft tensor) =>
            new([new JsonRawText(tensor.Begin.ToString(CultureInfo.InvariantCulture)), new JsonRawText(tensor.End.ToString(CultureInfo.InvariantCulture))]);
    }

    private sealed class TensorDraft(string name, string dtype, long[] shape, int bytes)
    {
        public string Name { get; } = name;

        public string DType { get; } = dtype;

        public long[] Shape { get; } = shape;

        public int Bytes { get; } = bytes;

        public long Begin { get; set; }

        public long End { get; set; }

        public JsonObjectText? Entry { get; set; }
    }

    private interface IStringOwner
    {
        void Replace(int index, JsonStringText text);
    }

    private sealed class KeyOwner(JsonObjectText obj) : IStringOwner
    {
        public void Replace(int index, JsonStringText text) => obj.Members[index] = (text, obj.Members[index].Value);
    }

    private sealed class ValueOwner(JsonObjectText obj) : IStringOwner
    {
        public void Replace(int index, JsonStringText text) => obj.Members[index] = (obj.Members[index].Key, text);
    }
}
