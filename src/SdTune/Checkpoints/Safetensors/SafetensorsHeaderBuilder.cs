using System.Text;
using System.Text.Json;
using SdTune.IO;

namespace SdTune.Checkpoints.Safetensors;

/// <summary>
/// The header the Python <c>safetensors</c> package writes, byte for byte (its Rust core's <c>prepare</c> and
/// serde_json): tensors ordered by descending dtype alignment (the reference's dtype order: I64, F64, F32, I32, BF16,
/// F16, I16, I8, U8, BOOL), then by name as UTF-8 bytes; <c>__metadata__</c> first when given (an empty map is written
/// as <c>{}</c>), its keys in the order given (the reference writes a hash map, in no fixed order); then each tensor as
/// <c>{"dtype":..,"shape":[..],"data_offsets":[begin,end]}</c>; compact JSON with serde_json's escaping
/// (<see cref="ReferenceJsonEncoder.SerdeJson"/>); padded with spaces to a multiple of 8 bytes.
/// </summary>
internal static class SafetensorsHeaderBuilder
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The file order of <paramref name="layout"/> (indices into it) and the padded header for it.</summary>
    /// <exception cref="ArgumentException">A tensor name is empty, reserved, repeated or not valid Unicode, or a metadata key or value is not valid Unicode.</exception>
    public static (int[] Order, byte[] Header) Build(IReadOnlyList<SafetensorsTensorLayout> layout, IReadOnlyDictionary<string, string>? metadata)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var keys = new byte[layout.Count][];
        for (var i = 0; i < layout.Count; i++)
        {
            var name = layout[i].Name;
            if (string.IsNullOrEmpty(name) || name == "__metadata__" || !names.Add(name))
            {
                throw new ArgumentException($"Tensor name '{name}' is empty, reserved or repeated.", nameof(layout));
            }

            ReferenceJsonEncoder.RequireWellFormed(name, () => $"Tensor name '{ReferenceJsonEncoder.Printable(name)}'");
            keys[i] = StrictUtf8.GetBytes(name);
        }

        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            ReferenceJsonEncoder.RequireWellFormed(key, () => $"The metadata key '{ReferenceJsonEncoder.Printable(key)}'");
            ReferenceJsonEncoder.RequireWellFormed(value, () => $"The metadata value of '{ReferenceJsonEncoder.Printable(key)}'");
        }

        var order = Enumerable.Range(0, layout.Count).ToArray();
        Array.Sort(order, (a, b) =>
        {
            var byType = AlignmentRank(layout[b].DType).CompareTo(AlignmentRank(layout[a].DType));
            return byType != 0 ? byType : keys[a].AsSpan().SequenceCompareTo(keys[b]);
        });

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = ReferenceJsonEncoder.SerdeJson }))
        {
            json.WriteStartObject();
            if (metadata is not null)
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            foreach (var entry in order.Select(i => layout[i]))
            {
                var length = entry.ByteLength;
                json.WriteStartObject(entry.Name);
                json.WriteString("dtype", entry.DType.ToString());
                json.WriteStartArray("shape");
                foreach (var dim in entry.Shape)
                {
                    json.WriteNumberValue(dim);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += length;
            }

            json.WriteEndObject();
        }

        var padded = (int)((buffer.Length + 7) / 8 * 8);
        var bytes = new byte[padded];
        buffer.GetBuffer().AsSpan(0, (int)buffer.Length).CopyTo(bytes);
        bytes.AsSpan((int)buffer.Length).Fill((byte)' ');
        return (order, bytes);
    }

    /// <summary>The position of a dtype in the reference's dtype enumeration, which rises with alignment.</summary>
    private static int AlignmentRank(SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.BOOL => 0,
        SafetensorsDType.U8 => 1,
        SafetensorsDType.I8 => 2,
        SafetensorsDType.I16 => 3,
        SafetensorsDType.F16 => 4,
        SafetensorsDType.BF16 => 5,
        SafetensorsDType.I32 => 6,
        SafetensorsDType.F32 => 7,
        SafetensorsDType.F64 => 8,
        SafetensorsDType.I64 => 9,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown safetensors dtype."),
    };
}
