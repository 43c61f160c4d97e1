namespace SdTune.Tests.Checkpoints.Fuzzing;

/// <summary>Format-blind damage: bit flips, overwritten, inserted and deleted bytes, truncation, appended junk.</summary>
internal static class ByteMutations
{
    public static (byte[] Bytes, string Description) Apply(byte[] original, Random random)
    {
        var bytes = (byte[])original.Clone();
        if (bytes.Length == 0)
        {
            return ([(byte)random.Next(256)], "one random byte");
        }

        switch (random.Next(7))
        {
            case 0:
                for (var k = random.Next(1, 4); k > 0; k--)
                {
                    bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                return (bytes, "bit flips");
            case 1:
                bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                return (bytes, "a byte overwritten");
            case 2:
                return (bytes[..random.Next(bytes.Length)], "truncated");
            case 3:
            {
                var at = random.Next(bytes.Length + 1);
                var extra = new byte[random.Next(1, 16)];
                random.NextBytes(extra);
                return ([.. bytes[..at], .. extra, .. bytes[at..]], "bytes inserted");
            }

            case 4:
            {
                var at = random.Next(bytes.Length);
                var count = Math.Min(random.Next(1, 16), bytes.Length - at);
                return ([.. bytes[..at], .. bytes[(at + count)..]], "bytes deleted");
            }

            case 5:
            {
                var extra = new byte[random.Next(1, 64)];
                random.NextBytes(extra);
                return ([.. bytes, .. extra], "junk appended");
            }

            default:
            {
                // Overwrite a run with a repeated value: zeroed or 0xff-filled regions, as a torn write leaves.
                var at = random.Next(bytes.Length);
                bytes.AsSpan(at, Math.Min(random.Next(1, 64), bytes.Length - at)).Fill(random.Next(2) == 0 ? (byte)0 : (byte)0xff);
                return (bytes, "a run overwritten");
            }
        }
    }
}
