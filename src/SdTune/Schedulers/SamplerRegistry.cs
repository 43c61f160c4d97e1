namespace SdTune.Schedulers;

/// <summary>
/// Samplers by the names users type: AUTOMATIC1111's display names ("Euler a", "DPM++ 2M Karras", …) and kebab-case
/// aliases ("euler-a", "dpmpp-2m-karras", …), case-insensitively. The samplers follow diffusers' schedulers, so
/// "DPM++ 2M" is the uniform schedule (A1111 1.9+ pairs it with Karras sigmas by default: ask for "DPM++ 2M Karras").
/// </summary>
public static class SamplerRegistry
{
    private static readonly Entry[] Entries =
    [
        new("Euler a", ["euler-a", "euler_a", "euler-ancestral", "k_euler_a"], s => new EulerAncestralSampler(s)),
        new("Euler", ["euler", "k_euler"], s => new EulerSampler(s)),
        new("DDIM", ["ddim"], s => new DdimSampler(s)),
        new("DPM++ 2M", ["dpmpp-2m", "dpmpp_2m", "k_dpmpp_2m"], s => new DpmPlusPlus2MSampler(s, karras: false)),
        new("DPM++ 2M Karras", ["dpmpp-2m-karras", "dpmpp_2m_karras", "k_dpmpp_2m_karras"], s => new DpmPlusPlus2MSampler(s, karras: true)),
    ];

    /// <summary>The display names, in the order A1111 lists them.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Entries.Select(e => e.Name)];

    /// <summary>The kebab-case alias of each sampler, in the order of <see cref="Names"/>.</summary>
    public static IReadOnlyList<string> KebabNames { get; } = [.. Entries.Select(e => e.Aliases[0])];

    /// <summary>Creates the sampler a name stands for, with its defaults (DDIM η = 0, spacing from the config).</summary>
    /// <param name="name">A display name or alias, any case, surrounding spaces ignored.</param>
    /// <param name="schedule">The model's training schedule.</param>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the valid names.</exception>
    public static ISampler Create(string name, NoiseSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return Find(name).Create(schedule);
    }

    /// <summary>The display name a user-typed name stands for.</summary>
    /// <exception cref="ArgumentException">The name is unknown; the message lists the valid names.</exception>
    public static string Resolve(string name) => Find(name).Name;

    /// <summary>Whether a name (display name or alias) is known.</summary>
    public static bool IsKnown(string? name) => name is not null && TryFind(name) is not null;

    private static Entry Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryFind(name) ?? throw new ArgumentException(
            $"Unknown sampler '{name}'. Valid samplers: {string.Join(", ", Entries.Select(e => $"\"{e.Name}\" ({e.Aliases[0]})"))}.", nameof(name));
    }

    private static Entry? TryFind(string name)
    {
        var key = name.Trim();
        return Entries.FirstOrDefault(e =>
            string.Equals(e.Name, key, StringComparison.OrdinalIgnoreCase) ||
            e.Aliases.Any(a => string.Equals(a, key, StringComparison.OrdinalIgnoreCase)));
    }

    private sealed record Entry(string Name, string[] Aliases, Func<NoiseSchedule, ISampler> Create);
}
