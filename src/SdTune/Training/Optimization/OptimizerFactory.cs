namespace SdTune.Training.Optimization;

/// <summary>Creates optimizers from the names users type ("AdamW", "Prodigy", "Adafactor", "Lion"; any letter case).</summary>
public static class OptimizerFactory
{
    /// <summary>The name of <see cref="AdamWOptimizer"/>.</summary>
    public const string AdamWName = "AdamW";

    /// <summary>The name of <see cref="ProdigyOptimizer"/>.</summary>
    public const string ProdigyName = "Prodigy";

    /// <summary>The name of <see cref="AdafactorOptimizer"/>.</summary>
    public const string AdafactorName = "Adafactor";

    /// <summary>The name of <see cref="LionOptimizer"/>.</summary>
    public const string LionName = "Lion";

    /// <summary>The names <see cref="Create"/> accepts, as they are spelled in messages and saved states.</summary>
    public static IReadOnlyList<string> Names { get; } = [AdamWName, ProdigyName, AdafactorName, LionName];

    /// <summary>Creates the optimizer called <paramref name="name"/> over <paramref name="groups"/>.</summary>
    /// <param name="name">The optimizer's name, in any letter case.</param>
    /// <param name="groups">The parameter groups with their learning rates.</param>
    /// <param name="options">The matching options record (<see cref="AdamWOptions"/> for "AdamW" and so on); null for the defaults.</param>
    /// <exception cref="ArgumentException">The name is unknown (the message lists the valid ones), or the options are for another optimizer or out of range.</exception>
    public static TrainingOptimizer Create(string name, IEnumerable<ParameterGroup> groups, OptimizerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        var canonical = Names.FirstOrDefault(n => string.Equals(n, name.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown optimizer '{name}'. Valid optimizers: {string.Join(", ", Names)}.", nameof(name));
        return canonical switch
        {
            AdamWName => new AdamWOptimizer(groups, OptionsAs<AdamWOptions>(canonical, options)),
            ProdigyName => new ProdigyOptimizer(groups, OptionsAs<ProdigyOptions>(canonical, options)),
            AdafactorName => new AdafactorOptimizer(groups, OptionsAs<AdafactorOptions>(canonical, options)),
            _ => new LionOptimizer(groups, OptionsAs<LionOptions>(canonical, options)),
        };
    }

    private static T? OptionsAs<T>(string optimizer, OptimizerOptions? options)
        where T : OptimizerOptions => options switch
        {
            null => null,
            T typed => typed,
            _ => throw new ArgumentException($"Optimizer {optimizer} takes {typeof(T).Name}, not {options.GetType().Name}.", nameof(options)),
        };
}
