using System.Buffers.Binary;

namespace SdTune.Tests.Checkpoints.Fuzzing;

/// <summary>
/// Splits pickle bytes into opcodes (code plus argument), from the argument layouts of Python's pickle format, so
/// mutations act on whole opcodes and arguments rather than on arbitrary bytes.
/// </summary>
internal static class PickleOpcodeSpans
{
    private const string NoArgument = "(.012NQRabd}el]ost)u";
    private static readonly byte[] NoArgumentHigh = [0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x97, 0x98];

    /// <summary>The opcodes of the pickle at <paramref name="start"/>, up to and including STOP.</summary>
    /// <returns>Opcode spans; <paramref name="end"/> is the offset after the STOP (or where reading stopped).</returns>
    public static List<(int Start, int Length)> Read(byte[] bytes, int start, out int end)
    {
        var spans = new List<(int, int)>();
        var at = start;
        while (at < bytes.Length)
        {
            var length = Length(bytes, at);
            if (length <= 0 || at + length > bytes.Length)
            {
                break;
            }

            spans.Add((at, length));
            at += length;
            if (bytes[at - length] == (byte)'.')
            {
                break;
            }
        }

        end = at;
        return spans;
    }

    /// <summary>The byte length of the opcode at <paramref name="at"/> with its argument, or 0 when unknown.</summary>
    public static int Length(byte[] bytes, int at)
    {
        var code = bytes[at];
        long length = code switch
        {
            _ when NoArgument.Contains((char)code, StringComparison.Ordinal) || NoArgumentHigh.Contains(code) => 1,
            (byte)'K' or (byte)'h' or (byte)'q' or 0x80 or 0x82 => 2,
            (byte)'M' or 0x83 => 3,
            (byte)'J' or (byte)'j' or (byte)'r' or 0x84 => 5,
            (byte)'G' or 0x95 => 9,
            (byte)'C' or (byte)'U' or 0x8a or 0x8c => at + 1 < bytes.Length ? 2L + bytes[at + 1] : 0,
            (byte)'T' or (byte)'X' or (byte)'B' or 0x8b => at + 5 <= bytes.Length ? 5L + BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(at + 1)) : 0,
            0x8d or 0x8e or 0x96 => at + 9 <= bytes.Length ? 9L + (long)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at + 1)), int.MaxValue) : 0,
            (byte)'F' or (byte)'I' or (byte)'L' or (byte)'P' or (byte)'S' or (byte)'V' or (byte)'g' or (byte)'p' => Lines(bytes, at, 1),
            (byte)'c' or (byte)'i' => Lines(bytes, at, 2),
            _ => 0,
        };
        return length > int.MaxValue ? 0 : (int)length;
    }

    private static long Lines(byte[] bytes, int at, int count)
    {
        var position = at + 1;
        for (var i = 0; i < count; i++)
        {
            var newline = Array.IndexOf(bytes, (byte)'\n', position);
            if (newline < 0)
            {
                return 0;
            }

            position = newline + 1;
        }

        return position - at;
    }
}
