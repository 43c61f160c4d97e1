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
    private static readonly string[] BadNumbers =
        ["-1", "1.5", "1e2", "1E+2", "2.0", "99999999999999999999", "18446744073709551616", "9223372036854775808", "\"4\"", "null", "true",
         "[]", "{}", "01", "+1", "NaN", "Infinity", "-", "0x10", "1.", "-9223372036854775809"];

    private static readonly string[] Garbage = ["x", "\0", "{}", "\0\0\0\0\0\0\0", "/", "\u00a0", "]", ",", "null", "  \0"];

    private delegate FuzzExpectation Mutation(SafetensorsDraft header, Random random, StringBuilder log);

    private static readonly Mutation[] Allowed = [EscapeCharacters, AddIgnoredField, PadWithWhitespace, SpaceTokens, NullMetadata, ShuffleMembers, AddUnitDimensions];

    private static readonly Mutation[] Forbidden =
        [InsertLoneSurrogate, BreakANumber, HugeOrNegativeShape, DuplicateAKey, NestDeeply, AppendGarbage, WrongType, BreakTheLayout,
         DropAField, BadDType, LeadingBytes, InvalidUtf8, InsertComment];

    public static FuzzCase Generate(Random random)
    {
        var header = SafetensorsDraft.CreateValid(random);
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

    private static FuzzExpectation EscapeCharacters(SafetensorsDraft header, Random random, StringBuilder log)
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

    private static FuzzExpectation AddIgnoredField(SafetensorsDraft header, Random random, StringBuilder log)
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

    private static FuzzExpectation PadWithWhitespace(SafetensorsDraft header, Random random, StringBuilder log)
    {
        header.Trailing += random.Next(2) == 0 ? new string(' ', random.Next(1, 8)) : new string([.. Enumerable.Range(0, random.Next(1, 9)).Select(_ => " \n\t\r"[random.Next(4)])]);
        log.Append("whitespace padding; ");
        return FuzzExpectation.Load;
    }

    private static FuzzExpectation SpaceTokens(SafetensorsDraft header, Random random, StringBuilder log)
    {
        header.Spaced = true;
        log.Append("whitespace between tokens; ");
        return FuzzExpectation.Load;
    }

    private static FuzzExpectation NullMetadata(SafetensorsDraft header, Random random, StringBuilder log)
    {
        header.Root.Members.RemoveAll(m => m.Key.Content == "__metadata__");
        header.Root.Members.Insert(random.Next(header.Root.Members.Count + 1), (new JsonStringText("__metadata__"), new JsonRawText("null")));
        log.Append("__metadata__ null; ");
        return FuzzExpectation.Load;
    }

    private static FuzzExpectation ShuffleMembers(SafetensorsDraft header, Random random, StringBuilder log)
    {
        var target = random.Next(2) == 0 ? header.Root : header.TensorEntries().FirstOrDefault() ?? header.Root;
        var shuffled = target.Members.OrderBy(_ => random.Next()).ToList();
        target.Members.Clear();
        target.Members.AddRange(shuffled);
        log.Append("members reordered; ");
        return FuzzExpectation.Load;
    }

    private static FuzzExpectation AddUnitDimensions(SafetensorsDraft header, Random random, StringBuilder log)
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

    private static FuzzExpectation InsertLoneSurrogate(SafetensorsDraft header, Random random, StringBuilder log)
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

    private static FuzzExpectation BreakANumber(SafetensorsDraft header, Random random, StringBuilder log)
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

    private static FuzzExpectation HugeOrNegativeShape(SafetensorsDraft header, Random random, StringBuilder log)
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

    private static FuzzExpectation DuplicateAKey(SafetensorsDraft header, Random random, StringBuilder log)
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

    private static FuzzExpectation NestDeeply(SafetensorsDraft header, Random random, StringBuilder log)
    {
        var entry = header.TensorEntries().FirstOrDefault();
        int[] depths = [70, 1000, 100_000];
        var depth = depths[random.Next(depths.Length)];
        var target = entry ?? header.Root;
        target.Members.Add((new JsonStringText("deep"), Nested(depth, random)));
        log.Append(CultureInfo.InvariantCulture, $"nested {depth} deep; ");
        return FuzzExpectation.Reject;
    }

    private static FuzzExpectation AppendGarbage(SafetensorsDraft header, Random random, StringBuilder log)
    {
        var garbage = Garbage[random.Next(Garbage.Length)];
        header.Trailing += garbage;
        log.Append(CultureInfo.InvariantCulture, $"trailing {Visible(garbage)}; ");
        return FuzzExpectation.Reject;
    }

    private static FuzzExpectation WrongType(SafetensorsDraft header, Random random, StringBuilder log)
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

    private static FuzzExpectation BreakTheLayout(SafetensorsDraft header, Random random, StringBuilder log)
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

    private static FuzzExpectation DropAField(SafetensorsDraft header, Random random, StringBuilder log)
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

    private static FuzzExpectation BadDType(SafetensorsDraft header, Random random, StringBuilder log)
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

    private static FuzzExpectation LeadingBytes(SafetensorsDraft header, Random random, StringBuilder log)
    {
        string[] leads = [" ", "\n", "\uFEFF", "[", "\0"];
        header.Leading = leads[random.Next(leads.Length)];
        log.Append(CultureInfo.InvariantCulture, $"header starts with {Visible(header.Leading)}; ");
        return FuzzExpectation.Reject;
    }

    private static FuzzExpectation InvalidUtf8(SafetensorsDraft header, Random random, StringBuilder log)
    {
        var (owner, index, text) = header.PickString(random, includeKeys: true);
        owner.Replace(index, new JsonStringText(InsertAtBoundary(text.Escaped, SafetensorsDraft.InvalidUtf8Marker.ToString(), random)));
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

    private static FuzzExpectation InsertComment(SafetensorsDraft header, Random random, StringBuilder log)
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
}
