using System.Globalization;
using System.Reflection;
using SdTune.Training.Optimization;

namespace SdTune.Training;

/// <summary>
/// Turns sd-scripts' <c>optimizer_args</c> ("weight_decay=0.1", "betas=0.9,0.99", "eps=1e-8", "d0=1e-6", ...) into the
/// options record of the chosen optimizer: snake_case keys match the record's properties, plus the Python spellings
/// <c>betas</c> (beta1, beta2[, beta3]) and <c>eps</c> (Epsilon, or (Epsilon1, Epsilon2) for Adafactor).
/// </summary>
internal static class OptimizerArguments
{
    public static OptimizerOptions Create(string optimizer, IReadOnlyList<string> args)
    {
        var canonical = OptimizerFactory.Names.First(n => string.Equals(n, optimizer.Trim(), StringComparison.OrdinalIgnoreCase));
        OptimizerOptions options = canonical switch
        {
            OptimizerFactory.AdamWName => new AdamWOptions(),
            OptimizerFactory.ProdigyName => new ProdigyOptions(),
            OptimizerFactory.AdafactorName => new AdafactorOptions(),
            _ => new LionOptions(),
        };
        foreach (var arg in args)
        {
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var key = arg[..eq].Trim().ToLowerInvariant();
            var value = arg[(eq + 1)..].Trim().Trim('(', ')', '[', ']', '"', '\'');
            var values = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var names = key switch
            {
                "betas" => ["beta1", "beta2", "beta3"],
                "eps" => options is AdafactorOptions ? ["epsilon1", "epsilon2"] : ["epsilon"],
                _ => new[] { key },
            };
            if (values.Length == 0 || values.Length > names.Length)
            {
                throw new TrainingConfigException("optimizer_args", $"\"{arg}\": expected {(names.Length == 1 ? "one value" : $"up to {names.Length} values")}.");
            }

            for (var i = 0; i < values.Length; i++)
            {
                Set(options, canonical, names[i], values[i], arg);
            }
        }

        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new TrainingConfigException("optimizer_args", e.Message, e);
        }

        return options;
    }

    public static string Describe(string optimizer, IReadOnlyList<string> args) =>
        args.Count == 0 ? optimizer : $"{optimizer}({string.Join(",", args)})";

    private static void Set(OptimizerOptions options, string optimizer, string name, string value, string arg)
    {
        var pascal = string.Concat(name.Split('_').Select(p => p.Length == 0 ? p : char.ToUpperInvariant(p[0]) + p[1..]));
        var property = options.GetType().GetProperty(pascal, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null || !property.CanWrite)
        {
            var known = options.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite)
                .Select(p => string.Concat(p.Name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString())));
            throw new TrainingConfigException("optimizer_args", $"\"{arg}\": {optimizer} has no argument '{name}'; known: {string.Join(", ", known)}.");
        }

        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        object? parsed = null;
        if (type == typeof(double) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            parsed = d;
        }
        else if (type == typeof(int) && int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n))
        {
            parsed = n;
        }
        else if (type == typeof(bool) && bool.TryParse(value, out var b))
        {
            parsed = b;
        }

        if (parsed is null)
        {
            throw new TrainingConfigException("optimizer_args", $"\"{arg}\": '{value}' is not a valid {type.Name.ToLowerInvariant()} for '{name}'.");
        }

        property.SetValue(options, parsed);
    }
}
