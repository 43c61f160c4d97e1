namespace SdTune.Text;

/// <summary>
/// The byte-level alphabet of CLIP's BPE: every byte value is given a printable Unicode character, so that
/// any UTF-8 byte sequence can be written as a string of vocabulary symbols. Printable Latin-1 bytes
/// ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other 68 bytes (controls, space, DEL, NBSP,
/// soft hyphen) are shifted to U+0100 and up, in byte order.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly (char[] Table, byte[] Order) Tables = BuildTables();
    private static readonly char[] ByteToCharTable = Tables.Table;
    private static readonly byte[] ShiftedBytes = Enumerable.Range(0, 256).Where(b => !IsSelfMapped(b)).Select(b => (byte)b).ToArray();

    /// <summary>The 256 bytes in vocabulary order: the self-mapped printable bytes first, then the shifted ones.</summary>
    public static IReadOnlyList<byte> VocabularyOrder { get; } = Tables.Order;

    /// <summary>The alphabet character that stands for <paramref name="value"/>.</summary>
    public static char ToChar(byte value) => ByteToCharTable[value];

    /// <summary>The byte an alphabet character stands for; false for characters outside the alphabet.</summary>
    public static bool TryGetByte(char symbol, out byte value)
    {
        if (IsSelfMapped(symbol))
        {
            value = (byte)symbol;
            return true;
        }

        // Shifted bytes occupy U+0100.. in increasing byte order.
        var index = symbol - 256;
        if (index >= 0 && index < ShiftedBytes.Length)
        {
            value = ShiftedBytes[index];
            return true;
        }

        value = 0;
        return false;
    }

    private static bool IsSelfMapped(int c) => c is (>= '!' and <= '~') or (>= '¡' and <= '¬') or (>= '®' and <= 'ÿ');

    private static (char[] Table, byte[] Order) BuildTables()
    {
        var table = new char[256];
        var ordered = new List<byte>(256);
        var shifted = 0;
        for (var b = 0; b < 256; b++)
        {
            if (IsSelfMapped(b))
            {
                table[b] = (char)b;
                ordered.Add((byte)b);
            }
        }

        for (var b = 0; b < 256; b++)
        {
            if (!IsSelfMapped(b))
            {
                table[b] = (char)(256 + shifted++);
                ordered.Add((byte)b);
            }
        }

        return (table, ordered.ToArray());
    }
}
