namespace SdTune.Adapters;

/// <summary>The registered adapter algorithms. Adding one is a new class plus one line here.</summary>
public static class AdapterAlgorithms
{
    /// <summary>Every algorithm, in the order stored modules are tested against them (LyCORIS' order).</summary>
    public static IReadOnlyList<AdapterAlgorithm> All { get; } =
    [
        LoraModule.Algorithm,
        LoHaModule.Algorithm,
        LoKrModule.Algorithm,
    ];

    /// <summary>The algorithm of a name (case-insensitive).</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static AdapterAlgorithm Get(string name) =>
        All.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown adapter algorithm '{name}'. Known: {string.Join(", ", All.Select(a => a.Name))}.", nameof(name));

    /// <summary>The first algorithm that recognises a module's stored tensor names, or null.</summary>
    public static AdapterAlgorithm? Detect(IReadOnlySet<string> tensorNames) => All.FirstOrDefault(a => a.Recognizes(tensorNames));
}
