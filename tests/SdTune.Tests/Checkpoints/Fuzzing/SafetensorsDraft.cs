using System.Globalization;
using System.Text;

namespace SdTune.Tests.Checkpoints.Fuzzing;

/// <summary>A safetensors header under construction: the JSON tree, the tensors' data layout and framing bytes.</summary>
internal sealed class SafetensorsDraft
{
    // The UTF-8 of U+E000 marks where raw invalid UTF-8 is spliced in after rendering.
    public const char InvalidUtf8Marker = '\uE000';

    private static readonly (string Name, int Size)[] DTypes =
        [("F64", 8), ("F32", 4), ("F16", 2), ("BF16", 2), ("I64", 8), ("I32", 4), ("I16", 2), ("I8", 1), ("U8", 1), ("BOOL", 1)];

    private static readonly string[] NameParts =
        ["lora_unet_down_blocks_0", ".lora_down.weight", ".alpha", "model.diffusion_model.input_blocks.1.0", "emb_params", "é", "✓", "\U0001F600",
         "\"q\"", "back\\slash", "tab\t", "nl\n", "__metadata", "x", ""];

    private static readonly string[] MetadataValues =
        ["4", "1.0", "networks.lora", """{"conv_dim": "8", "algo": "locon"}""", "{\"a\": {\"b\": [1, 2]}}", "ünïcødé ✓ \U0001F600",
         "line\nbreak\ttab \"quoted\" back\\slash", "", "\\udc80 is only text here"];

    public JsonObjectText Root { get; } = new([]);

    public List<TensorDraft> Tensors { get; } = [];

    public string Leading { get; set; } = "";

    public string Trailing { get; set; } = "";

    public bool Spaced { get; set; }

    public int ExtraData { get; set; }

    public byte[]? InvalidUtf8 { get; set; }

    public long DataLength => Tensors.Sum(t => (long)t.Bytes);

    public static SafetensorsDraft CreateValid(Random random)
    {
        var header = new SafetensorsDraft();
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

/// <summary>One tensor of a draft: name, dtype, shape, byte count, data range and its JSON entry.</summary>
internal sealed class TensorDraft(string name, string dtype, long[] shape, int bytes)
{
    public string Name { get; } = name;

    public string DType { get; } = dtype;

    public long[] Shape { get; } = shape;

    public int Bytes { get; } = bytes;

    public long Begin { get; set; }

    public long End { get; set; }

    public JsonObjectText? Entry { get; set; }
}

/// <summary>Where a JSON string sits (a key or a value of an object), so a mutation can replace it.</summary>
internal interface IStringOwner
{
    void Replace(int index, JsonStringText text);
}

internal sealed class KeyOwner(JsonObjectText obj) : IStringOwner
{
    public void Replace(int index, JsonStringText text) => obj.Members[index] = (text, obj.Members[index].Value);
}

internal sealed class ValueOwner(JsonObjectText obj) : IStringOwner
{
    public void Replace(int index, JsonStringText text) => obj.Members[index] = (obj.Members[index].Key, text);
}
