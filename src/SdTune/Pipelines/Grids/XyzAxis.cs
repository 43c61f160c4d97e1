using SdTune.Imaging;

namespace SdTune.Pipelines.Grids;

/// <summary>One axis of an X/Y/Z plot: its type and its values, checked.</summary>
/// <param name="Type">The setting it varies.</param>
/// <param name="Values">Its values, in order (left to right, top to bottom, panel by panel).</param>
public sealed record XyzAxis(XyzAxisType Type, IReadOnlyList<XyzValue> Values)
{
    /// <summary>Reads an axis from the command line's text.</summary>
    /// <param name="option">The option prefix errors name: <c>--x</c> gives <c>--x-type</c> and <c>--x-values</c>.</param>
    /// <param name="type">The axis type: A1111's name or its alias (<see cref="XyzAxisTypes"/>).</param>
    /// <param name="values">The values: numbers and ranges, or a comma-separated list (<see cref="AxisValues"/>).</param>
    /// <param name="context">What the values are checked against.</param>
    /// <exception cref="ArgumentException">The type is unknown (the message lists the valid ones), a value does not parse or is out of range, or a sampler is unknown.</exception>
    /// <exception cref="FileNotFoundException">A LoRA file or checkpoint value names no file.</exception>
    public static XyzAxis Parse(string option, string type, string values, XyzAxisContext context)
    {
        ArgumentNullException.ThrowIfNull(option);
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(context);
        var axisType = XyzAxisTypes.Find(type) ?? throw new ArgumentException($"{option}-type: unknown axis type '{type}'. Valid axis types: {XyzAxisTypes.Valid}.");
        var valuesOption = $"{option}-values";
        IReadOnlyList<XyzValue> parsed;
        try
        {
            parsed = axisType.Kind switch
            {
                XyzValueKind.Integer => [.. AxisValues.ParseIntegers(values).Select(v => new XyzValue(v.ToString(System.Globalization.CultureInfo.InvariantCulture)) { Integer = v })],
                XyzValueKind.Number => [.. AxisValues.ParseNumbers(values).Select(v => new XyzValue(InfotextSyntax.FormatNumber(v)) { Number = v })],
                _ => [.. AxisValues.SplitList(values).Select(v => new XyzValue(v))],
            };
            if (parsed.Count == 0)
            {
                throw new FormatException($"no values for the {axisType.Name} axis.");
            }

            if (parsed.Count > AxisValues.MaxValues)
            {
                throw new FormatException($"{parsed.Count} values; an axis takes at most {AxisValues.MaxValues}.");
            }

            parsed = axisType.Prepare?.Invoke(parsed, context) ?? parsed;
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"{valuesOption}: {e.Message}", e);
        }
        catch (FileNotFoundException e)
        {
            throw new FileNotFoundException($"{valuesOption}: {e.Message}", e.FileName, e);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{valuesOption}: {Plain(e)}", e);
        }

        // Each value must make a valid request on its own (steps 1-1000, CFG >= 0, ...).
        var start = new GridCell(0, 0, 0, context.BaseRequest with { BatchSize = 1 });
        foreach (var value in parsed)
        {
            try
            {
                axisType.Apply(start, value).Request.Validate();
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{valuesOption}: {axisType.Label(value)}: {Plain(e)}", e);
            }
        }

        return new XyzAxis(axisType, parsed);
    }

    /// <summary>An argument exception's message without the " (Parameter 'name')" .NET appends.</summary>
    private static string Plain(ArgumentException e)
    {
        var suffix = e.ParamName is { Length: > 0 } name ? new ArgumentException("", name).Message : "";
        return suffix.Length > 0 && e.Message.EndsWith(suffix, StringComparison.Ordinal) ? e.Message[..^suffix.Length] : e.Message;
    }

    /// <summary>The label of each value.</summary>
    public IReadOnlyList<string> Labels => [.. Values.Select(Type.Label)];
}
