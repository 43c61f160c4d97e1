using System.Globalization;

namespace SdTune.Options;

/// <summary>The type a numeric option has where it is used, which bounds what it may hold.</summary>
public enum NumberType
{
    /// <summary>A 32-bit integer.</summary>
    Int32,

    /// <summary>A 64-bit integer.</summary>
    Int64,

    /// <summary>A number used in float32 tensor arithmetic: it must be finite as a float32.</summary>
    Float32,

    /// <summary>A number used in double arithmetic: it must be finite.</summary>
    Float64,
}

/// <summary>
/// The values a numeric option accepts: the type it is used in (a float32 value must be finite as a float32, an
/// integer must fit its type), its bounds and, for sizes, the multiple it must be. One description gives both the check
/// and the error message, so options are declared once, in a table, with their range.
/// </summary>
/// <param name="Type">The type the value is used in.</param>
/// <param name="Min">The lower bound.</param>
/// <param name="Max">The upper bound.</param>
/// <param name="MinExclusive">Whether <paramref name="Min"/> itself is refused.</param>
/// <param name="MaxExclusive">Whether <paramref name="Max"/> itself is refused.</param>
/// <param name="MultipleOf">For integers: the value must be a multiple of this (1: any).</param>
public sealed record NumericRange(NumberType Type, double Min, double Max, bool MinExclusive = false, bool MaxExclusive = false, int MultipleOf = 1)
{
    /// <summary>The largest finite float32, as a double.</summary>
    public const double Float32Max = float.MaxValue;

    /// <summary>A count: an integer from 1 to <paramref name="max"/>.</summary>
    public static NumericRange Count(int max = int.MaxValue) => new(NumberType.Int32, 1, max);

    /// <summary>A float32 value of either sign.</summary>
    public static NumericRange AnyFloat32 { get; } = new(NumberType.Float32, -Float32Max, Float32Max);

    /// <summary>A float32 value &gt;= 0.</summary>
    public static NumericRange NonNegativeFloat32 { get; } = new(NumberType.Float32, 0, Float32Max);

    /// <summary>A float32 value &gt; 0.</summary>
    public static NumericRange PositiveFloat32 { get; } = new(NumberType.Float32, 0, Float32Max, MinExclusive: true);

    /// <summary>A finite double &gt; 0.</summary>
    public static NumericRange PositiveFloat64 { get; } = new(NumberType.Float64, 0, double.MaxValue, MinExclusive: true);

    /// <summary>A probability in [0, 1].</summary>
    public static NumericRange Probability { get; } = new(NumberType.Float64, 0, 1);

    /// <summary>A dropout rate in [0, 1) (1 would drop everything).</summary>
    public static NumericRange DropoutRate { get; } = new(NumberType.Float64, 0, 1, MaxExclusive: true);

    /// <summary>
    /// An image side in pixels for generation: a multiple of 8 (the VAE's factor) from 8 to 8192 — eight times SDXL's
    /// 1024, far above what any Stable Diffusion model was made for, and below sizes whose tensors cannot be allocated.
    /// </summary>
    public static NumericRange ImageSide { get; } = new(NumberType.Int32, 8, 8192, MultipleOf: 8);

    /// <summary>Whether <paramref name="value"/> is accepted.</summary>
    public bool Contains(double value)
    {
        if (double.IsNaN(value) || (Type is NumberType.Float32 or NumberType.Float64 && !double.IsFinite(value)))
        {
            return false;
        }

        if (Type is NumberType.Int32 or NumberType.Int64 && (Math.Floor(value) != value || value % MultipleOf != 0))
        {
            return false;
        }

        var aboveMin = MinExclusive ? value > Min : value >= Min;
        var belowMax = MaxExclusive ? value < Max : value <= Max;
        return aboveMin && belowMax;
    }

    /// <summary>Reads <paramref name="text"/> as this range's kind of number and checks it: null when accepted, else what is wrong.</summary>
    public string? Read(string text, out double value)
    {
        var integer = Type is NumberType.Int32 or NumberType.Int64;
        if (!double.TryParse(text, integer ? NumberStyles.Integer : NumberStyles.Float, CultureInfo.InvariantCulture, out value))
        {
            return $"'{text}' is not {(integer ? "an integer" : "a number")}.";
        }

        return Problem(value);
    }

    /// <summary>Null when <paramref name="value"/> is accepted; otherwise "X is out of range; expected …".</summary>
    public string? Problem(double value) => Contains(value) ? null : $"{Format(value)} is out of range; expected {Describe()}.";

    /// <summary>What is accepted, in words: "an integer from 1 to 4096", "a number >= 0 that fits in float32 (magnitude at most 3.4028235e+38)".</summary>
    public string Describe()
    {
        if (Type is NumberType.Int32 or NumberType.Int64)
        {
            var what = MultipleOf > 1 ? $"a multiple of {MultipleOf}" : "an integer";
            return $"{what} from {Format(Min)} to {Format(Max)}";
        }

        var lower = MinExclusive ? $"> {Format(Min)}" : $">= {Format(Min)}";
        if (Max >= Float32Max)
        {
            var finite = Type == NumberType.Float32 ? $"that fits in float32 (magnitude at most {Format(Float32Max)})" : "that is finite";
            return Min <= -Float32Max ? $"a number {finite}" : $"a number {lower} {finite}";
        }

        return $"a number in {(MinExclusive ? "(" : "[")}{Format(Min)}, {Format(Max)}{(MaxExclusive ? ")" : "]")}";
    }

    /// <summary>A number as users write it: integers without a decimal point, others in their shortest round-trip form ("1e+39").</summary>
    public static string Format(double value)
    {
        if (Math.Abs(value) < 1e15 && Math.Floor(value) == value)
        {
            return value.ToString("0", CultureInfo.InvariantCulture);
        }

        // A value that is exactly a float32 (such as the float32 maximum) reads best in float32's shortest form.
        var text = (double)(float)value == value ? ((float)value).ToString("R", CultureInfo.InvariantCulture) : value.ToString("R", CultureInfo.InvariantCulture);
        return text.Replace("E", "e", StringComparison.Ordinal);
    }
}
