namespace SdTune.Checkpoints.Pickle;

/// <summary>The zip CRC-32 (reflected polynomial 0xEDB88320), slicing by 8 so multi-GB checkpoints hash quickly.</summary>
internal static class Crc32
{
    private static readonly uint[][] Tables = BuildTables();

    /// <summary>Continues a CRC over more bytes; start with 0.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        var t = Tables;
        crc = ~crc;
        while (data.Length >= 8)
        {
            var low = crc ^ (uint)(data[0] | data[1] << 8 | data[2] << 16 | data[3] << 24);
            crc = t[7][low & 0xff] ^ t[6][(low >> 8) & 0xff] ^ t[5][(low >> 16) & 0xff] ^ t[4][low >> 24]
                ^ t[3][data[4]] ^ t[2][data[5]] ^ t[1][data[6]] ^ t[0][data[7]];
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = t[0][(crc ^ b) & 0xff] ^ (crc >> 8);
        }

        return ~crc;
    }

    private static uint[][] BuildTables()
    {
        var tables = new uint[8][];
        tables[0] = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var c = i;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            tables[0][i] = c;
        }

        for (var s = 1; s < 8; s++)
        {
            tables[s] = new uint[256];
            for (var i = 0; i < 256; i++)
            {
                var previous = tables[s - 1][i];
                tables[s][i] = tables[0][previous & 0xff] ^ (previous >> 8);
            }
        }

        return tables;
    }
}
