using System.Buffers.Binary;
using System.Numerics;

namespace SdTune.Checkpoints.Pickle;

/// <summary>
/// Decodes <c>numpy.core.multiarray.scalar(dtype, bytes)</c> (how numpy pickles a lone number, e.g. Lightning's
/// <c>best_model_score</c>) into a .NET number. Unknown dtypes stay a <see cref="PickleObject"/> placeholder.
/// </summary>
internal static class NumpyScalar
{
    public static object Decode(PickleGlobal global, PickleTuple args)
    {
        if (args.Count == 2
            && args[0] is PickleObject { Type: { Module: "numpy", Name: "dtype" } } dtype
            && dtype.Arguments.Count > 0 && dtype.Arguments[0] is string code
            && args[1] is byte[] data)
        {
            // numpy.dtype's pickled state is (version, byte order, ...); '>' is the only big-endian mark.
            var bigEndian = dtype.State is PickleTuple { Count: > 1 } state && state[1] is ">";
            var bytes = (byte[])data.Clone();
            if (bigEndian)
            {
                Array.Reverse(bytes);
            }

            var value = DecodeLittleEndian(code, bytes);
            if (value is not null)
            {
                return value;
            }
        }

        return new PickleObject(global, args);
    }

    private static object? DecodeLittleEndian(string code, byte[] b) => (code, b.Length) switch
    {
        ("f8", 8) => BinaryPrimitives.ReadDoubleLittleEndian(b),
        ("f4", 4) => (double)BinaryPrimitives.ReadSingleLittleEndian(b),
        ("f2", 2) => (double)BinaryPrimitives.ReadHalfLittleEndian(b),
        ("i8", 8) => BinaryPrimitives.ReadInt64LittleEndian(b),
        ("i4", 4) => (long)BinaryPrimitives.ReadInt32LittleEndian(b),
        ("i2", 2) => (long)BinaryPrimitives.ReadInt16LittleEndian(b),
        ("i1", 1) => (long)(sbyte)b[0],
        ("u8", 8) => Unsigned(BinaryPrimitives.ReadUInt64LittleEndian(b)),
        ("u4", 4) => (long)BinaryPrimitives.ReadUInt32LittleEndian(b),
        ("u2", 2) => (long)BinaryPrimitives.ReadUInt16LittleEndian(b),
        ("u1", 1) => (long)b[0],
        ("b1", 1) => b[0] != 0,
        _ => null,
    };

    private static object Unsigned(ulong value) => value <= long.MaxValue ? (long)value : new BigInteger(value);
}
