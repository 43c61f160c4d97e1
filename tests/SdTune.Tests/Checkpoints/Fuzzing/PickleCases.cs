using System.Globalization;
using System.IO.Compression;
using System.Text;
using SdTune.Tests.Checkpoints.Pickle;

namespace SdTune.Tests.Checkpoints.Fuzzing;

/// <summary>
/// Pickle inputs of every protocol: files Python's pickler and torch.save wrote (legacy streams of protocols 0-5,
/// torch zip archives, bare pickles that reach for os.system), changed opcode by opcode — opcodes deleted,
/// repeated, swapped or replaced, arguments and length fields made wrong or huge, truncation, fragments inserted
/// (globals allowed and refused, deep nesting, malformed text arguments, unknown and out-of-band opcodes) — or
/// byte by byte. A refused global placed before anything else must be named in the error.
/// </summary>
internal static class PickleCases
{
    private static readonly Lazy<Seed[]> Seeds = new(LoadSeeds);

    private static readonly (string Module, string Name)[] RefusedGlobals =
    [
        ("os", "system"), ("posix", "system"), ("nt", "system"), ("builtins", "eval"), ("builtins", "exec"), ("builtins", "getattr"),
        ("builtins", "__import__"), ("builtins", "open"), ("subprocess", "Popen"), ("subprocess", "check_output"), ("torch", "load"),
        ("numpy", "load"), ("pickle", "loads"), ("runpy", "_run_code"), ("shutil", "rmtree"), ("__builtin__", "eval"),
        ("copyreg", "_reconstructor"), ("functools", "partial"), ("torch.serialization", "_get_restore_location"),
    ];

    private static readonly (string Module, string Name)[] AllowedGlobals =
    [
        ("collections", "OrderedDict"), ("torch._utils", "_rebuild_tensor_v2"), ("torch", "FloatStorage"), ("torch", "Size"),
        ("_codecs", "encode"), ("builtins", "set"), ("numpy", "dtype"), ("torch._utils", "_rebuild_parameter"),
    ];

    private static readonly byte[][] Fragments = BuildFragments();

    public static FuzzCase Generate(Random random)
    {
        var seed = Seeds.Value[random.Next(Seeds.Value.Length)];
        var mode = random.Next(10);
        if (mode < 3)
        {
            var (damaged, damage) = ByteMutations.Apply(seed.File, random);
            return new FuzzCase(damaged, $"{seed.Name}: {damage}", FuzzExpectation.Either);
        }

        // A refused global goes first into the first pickle; other changes go into any pickle of the file.
        var part = mode == 3 ? 0 : random.Next(seed.Pickles.Length);
        var pickle = seed.Pickles[part];
        var spans = PickleOpcodeSpans.Read(pickle, 0, out _);
        if (mode == 3)
        {
            var (module, name) = RefusedGlobals[random.Next(RefusedGlobals.Length)];
            var first = spans.Count > 0 && pickle[0] == 0x80 ? spans[0].Length : 0;
            var fragment = random.Next(3) switch
            {
                0 => Encoding.ASCII.GetBytes($"c{module}\n{name}\n"),
                1 => Encoding.ASCII.GetBytes($"(i{module}\n{name}\n"),
                _ when first > 0 && pickle[1] >= 4 => [0x8c, (byte)module.Length, .. Encoding.ASCII.GetBytes(module), 0x8c, (byte)name.Length, .. Encoding.ASCII.GetBytes(name), 0x93],
                _ => Encoding.ASCII.GetBytes($"c{module}\n{name}\n"),
            };
            return new FuzzCase(seed.Rebuild(part, [.. pickle[..first], .. fragment, .. pickle[first..]]), $"{seed.Name}: {module}.{name} first",
                FuzzExpectation.Reject, $"'{module}.{name}'");
        }

        var log = new StringBuilder(seed.Name).Append(CultureInfo.InvariantCulture, $", pickle {part}:");
        for (var i = random.Next(1, 3); i > 0 && spans.Count > 0; i--)
        {
            pickle = MutateOpcodes(pickle, spans, random, log);
            spans = PickleOpcodeSpans.Read(pickle, 0, out _);
        }

        return new FuzzCase(seed.Rebuild(part, pickle), log.ToString(), FuzzExpectation.Either);
    }

    private static byte[] MutateOpcodes(byte[] pickle, List<(int Start, int Length)> spans, Random random, StringBuilder log)
    {
        var (start, length) = spans[random.Next(spans.Count)];
        var before = pickle[..start];
        var op = pickle[start..(start + length)];
        var after = pickle[(start + length)..];
        switch (random.Next(8))
        {
            case 0:
                log.Append(CultureInfo.InvariantCulture, $" opcode 0x{op[0]:x2} deleted;");
                return [.. before, .. after];
            case 1:
                log.Append(CultureInfo.InvariantCulture, $" opcode 0x{op[0]:x2} repeated;");
                return [.. before, .. op, .. op, .. after];
            case 2:
                var (otherStart, otherLength) = spans[random.Next(spans.Count)];
                if (otherStart <= start)
                {
                    return pickle;
                }

                log.Append(" two opcodes swapped;");
                var other = pickle[otherStart..(otherStart + otherLength)];
                return [.. before, .. other, .. pickle[(start + length)..otherStart], .. op, .. pickle[(otherStart + otherLength)..]];
            case 3:
                var fragment = Fragments[random.Next(Fragments.Length)];
                log.Append(CultureInfo.InvariantCulture, $" fragment '{Visible(fragment)}' inserted;");
                return [.. before, .. fragment, .. op, .. after];
            case 4:
                log.Append(" an argument changed;");
                return [.. before, .. ChangeArgument(op, random), .. after];
            case 5:
                op[0] = random.Next(2) == 0 ? (byte)random.Next(256) : Fragments[random.Next(Fragments.Length)][0];
                log.Append(CultureInfo.InvariantCulture, $" an opcode replaced by 0x{op[0]:x2};");
                return [.. before, .. op, .. after];
            case 6:
                var cut = random.Next(length);
                log.Append(" truncated;");
                return [.. before, .. op[..cut]];
            default:
                if (pickle.Length > 1 && pickle[0] == 0x80)
                {
                    pickle = (byte[])pickle.Clone();
                    pickle[1] = (byte)random.Next(256);
                    log.Append(CultureInfo.InvariantCulture, $" protocol {pickle[1]};");
                }

                return pickle;
        }
    }

    private static byte[] ChangeArgument(byte[] op, Random random)
    {
        var changed = (byte[])op.Clone();
        if (op.Length == 1)
        {
            return changed;
        }

        if (op[^1] == (byte)'\n')
        {
            string[] lines = ["", "abc", "-", "99999999999999999999999999", "nan", "1e999", new string('7', 5000), "'unterminated", "\\ud800", "os\nsystem", "\u00ff\u00fe"];
            return [op[0], .. Encoding.Latin1.GetBytes(lines[random.Next(lines.Length)]), (byte)'\n'];
        }

        var at = 1 + random.Next(Math.Min(op.Length - 1, 8));
        changed[at] = random.Next(3) switch { 0 => 0, 1 => 0xff, _ => (byte)random.Next(256) };
        if (random.Next(4) == 0 && op.Length > 2)
        {
            changed[op.Length - 1] = 0x7f; // a length field's high byte: a huge claim
        }

        return changed;
    }

    private static byte[][] BuildFragments()
    {
        List<byte[]> fragments =
        [
            "("u8.ToArray(), "."u8.ToArray(), "0"u8.ToArray(), "1"u8.ToArray(), "2"u8.ToArray(), "t"u8.ToArray(), [0x85], [0x86], [0x87], "R"u8.ToArray(),
            "b"u8.ToArray(), [0x81], [0x92], "u"u8.ToArray(), "s"u8.ToArray(), "e"u8.ToArray(), "a"u8.ToArray(), "}"u8.ToArray(), "]"u8.ToArray(),
            ")"u8.ToArray(), [0x8f], [0x90], [0x91], "N"u8.ToArray(), [0x88], "Q"u8.ToArray(), "Px\n"u8.ToArray(), [0x94],
            [(byte)'X', 0xff, 0xff, 0xff, 0x7f], [0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40], [0x8b, 0xff, 0xff, 0xff, 0x7f], [0x8b, 0xff, 0xff, 0xff, 0xff],
            [0x95, 0, 0, 0, 0, 0, 1, 0, 0], [(byte)'h', 0xff], [(byte)'j', 0xff, 0xff, 0xff, 0xff], [(byte)'r', 0xff, 0xff, 0xff, 0xff],
            [0x80, 9], [0x82, 1], [0x83, 1, 0], [0x84, 1, 0, 0, 0], [0x97], [0x98], [0x96, 2, 0, 0, 0, 0, 0, 0, 0, 1, 2],
            "I99999999999999999999999\n"u8.ToArray(), "I abc\n"u8.ToArray(), "Fnan\n"u8.ToArray(), "F1e999\n"u8.ToArray(), "Finf\n"u8.ToArray(),
            [(byte)'L', .. Encoding.ASCII.GetBytes(new string('9', 5000)), (byte)'L', (byte)'\n'], "S'unterminated\n"u8.ToArray(),
            "S'\\x4'\n"u8.ToArray(), "V\\ud800\n"u8.ToArray(), "V\\U0010ffff\n"u8.ToArray(), "V\\U00110000\n"u8.ToArray(),
            [(byte)'X', 2, 0, 0, 0, 0xc3, 0x28], [(byte)'T', 2, 0, 0, 0, 0xed, 0xa0], [0x8a, 9, 1, 0, 0, 0, 0, 0, 0, 0, 0x80],
            "]q\0h\0a"u8.ToArray(), // a list appended to itself
            [.. "N"u8.ToArray(), .. Enumerable.Repeat((byte)0x85, 50_000)], // 50,000 nested one-tuples
            [.. Enumerable.Repeat((byte)'(', 20_000)], // 20,000 marks
            [(byte)'c', .. Enumerable.Repeat((byte)'a', 10_000)], // a global whose module line never ends
            "g0\n"u8.ToArray(), "p99999999999999999999\n"u8.ToArray(), "(Vtouch x\nios\nsystem\n"u8.ToArray(),
        ];
        fragments.AddRange(RefusedGlobals.Concat(AllowedGlobals).Select(g => Encoding.ASCII.GetBytes($"c{g.Module}\n{g.Name}\n")));
        return [.. fragments];
    }

    private static string Visible(byte[] bytes)
    {
        var text = string.Concat(bytes.Take(24).Select(b => b is >= 0x20 and < 0x7f ? ((char)b).ToString() : $"\\x{b:x2}"));
        return bytes.Length > 24 ? text + $"... ({bytes.Length} bytes)" : text;
    }

    private static Seed[] LoadSeeds()
    {
        var seeds = new List<Seed>();
        var raw = Directory.GetFiles(Path.GetDirectoryName(PickleFixtures.Protocol("x"))!, "*.pt").Order(StringComparer.Ordinal)
            .Select(file => (Path.GetFileName(file), File.ReadAllBytes(file)))
            .Append(("legacy.pt", File.ReadAllBytes(PickleFixtures.Path("legacy.pt"))));
        foreach (var (name, bytes) in raw)
        {
            // A legacy torch file is five pickles in a row, then the storages' bytes.
            var pickles = new List<byte[]>();
            var end = 0;
            while (pickles.Count < 5 && end < bytes.Length && PickleOpcodeSpans.Read(bytes, end, out var next).Count > 0 && bytes[next - 1] == (byte)'.')
            {
                pickles.Add(bytes[end..next]);
                end = next;
            }

            var tail = bytes[end..];
            seeds.Add(new Seed(name, bytes, [.. pickles], (part, pickle) => [.. pickles.SelectMany((p, i) => i == part ? pickle : p), .. tail]));
        }

        foreach (var name in new[] { "basic.pt", "protocol4.pt", "shared_views.pt", "nested.pt", "sd_like.ckpt", "a1111_embedding.pt" })
        {
            var bytes = File.ReadAllBytes(PickleFixtures.Path(name));
            var entries = ReadZip(bytes);
            var pickleName = entries.Keys.Single(k => k.EndsWith("/data.pkl", StringComparison.Ordinal));
            seeds.Add(new Seed(name, bytes, [entries[pickleName]], (_, pickle) => WriteZip(entries, pickleName, pickle)));
        }

        return [.. seeds];
    }

    private static Dictionary<string, byte[]> ReadZip(byte[] bytes)
    {
        using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
        var entries = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            using var stream = entry.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            entries[entry.FullName] = copy.ToArray();
        }

        return entries;
    }

    private static byte[] WriteZip(Dictionary<string, byte[]> entries, string replacedName, byte[] replacement)
    {
        using var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data) in entries)
            {
                PickleBuilder.Add(zip, name, name == replacedName ? replacement : data);
            }
        }

        return output.ToArray();
    }

    /// <summary>A seed file: its bytes, its pickles (a zip's data.pkl, or a legacy stream's five), and how to put one back changed.</summary>
    private sealed record Seed(string Name, byte[] File, byte[][] Pickles, Func<int, byte[], byte[]> Rebuild);
}
