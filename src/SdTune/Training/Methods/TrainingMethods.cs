using System.Collections.Immutable;
using System.Runtime.CompilerServices;

namespace SdTune.Training.Methods;

/// <summary>
/// The training methods by name, and with them every key a configuration may hold: the trainer's own
/// (<see cref="TrainingConfigKeys"/>) and the ones each method declares. Adding a method is its file plus one line in
/// <see cref="BuiltIn"/> (or a call to <see cref="Register"/> from outside the library).
/// </summary>
public static class TrainingMethods
{
    private static readonly object Gate = new();

    /// <summary>Each method's benchmark rows with <c>method</c> set to it, made once so a row stays the same object.</summary>
    private static readonly ConditionalWeakTable<TrainingMethodDefinition, IReadOnlyList<BenchmarkMethod>> BenchmarkRows = [];
    private static Registry current = Registry.Of([LoraMethod.Definition, AdaLoraMethod.Definition, DreamBoothMethod.Definition, CustomDiffusionMethod.Definition, FineTuneMethod.Definition, TextualInversionMethod.Definition, PivotalTuningMethod.Definition, HypernetworkMethod.Definition, ControlNetMethod.Definition, T2IAdapterMethod.Definition]);

    /// <summary>The methods that ship with SdTune, in the order the CLI and the benchmark list them.</summary>
    public static IReadOnlyList<TrainingMethodDefinition> BuiltIn { get; } = current.Methods;

    /// <summary>Every registered method.</summary>
    public static IReadOnlyList<TrainingMethodDefinition> All => current.Methods;

    /// <summary>The registered method names.</summary>
    public static IReadOnlyList<string> Names => [.. current.Methods.Select(m => m.Name)];

    /// <summary>Every key of a configuration, the trainer's first, then the methods' (each shared key once).</summary>
    internal static IReadOnlyList<TrainingConfigKey> Keys => current.Keys;

    /// <summary>The keys by name.</summary>
    internal static IReadOnlyDictionary<string, TrainingConfigKey> KeysByName => current.ByName;

    /// <summary>Every method's benchmark rows, in registration order.</summary>
    public static IReadOnlyList<BenchmarkMethod> Benchmarks => current.Benchmarks;

    /// <summary>
    /// Adds a method; disposing the returned registration removes it again (registering a method that is already there
    /// does nothing, and so does disposing that registration). Its name and key names must be new, except for keys it
    /// shares with another method by listing the same key object.
    /// </summary>
    /// <exception cref="ArgumentException">The name or a key name is taken.</exception>
    public static IDisposable Register(TrainingMethodDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        lock (Gate)
        {
            if (current.Methods.Contains(definition))
            {
                return new Registration(null);
            }

            current = Registry.Of([.. current.Methods, definition]);
            return new Registration(definition);
        }
    }

    /// <summary>The method called <paramref name="name"/>, or null.</summary>
    public static TrainingMethodDefinition? Find(string name) => current.Methods.FirstOrDefault(m => m.Name == name);

    /// <summary>The method called <paramref name="name"/>.</summary>
    /// <exception cref="TrainingConfigException">No such method; the message lists the known ones.</exception>
    public static TrainingMethodDefinition Get(string name) =>
        Find(name) ?? throw new TrainingConfigException("method", $"unknown method \"{name}\"; use {string.Join(" or ", Names.Select(n => $"\"{n}\""))}.");

    /// <summary>Creates the method a configuration names.</summary>
    /// <exception cref="TrainingConfigException">The name is unknown.</exception>
    public static ITrainingMethod Create(string name) => Get(name).Create();

    private static IReadOnlyList<BenchmarkMethod> Rows(TrainingMethodDefinition method) =>
        [.. method.Benchmarks.Select(b => b with { Configure = (c, subject) => b.Configure(c with { Method = method.Name }, subject) })];

    /// <summary>Removes its method when disposed (once).</summary>
    private sealed class Registration(TrainingMethodDefinition? definition) : IDisposable
    {
        private TrainingMethodDefinition? method = definition;

        public void Dispose()
        {
            lock (Gate)
            {
                if (method is not null)
                {
                    current = Registry.Of(current.Methods.Remove(method));
                    method = null;
                }
            }
        }
    }

    /// <summary>An immutable snapshot of the registered methods and the key table they make.</summary>
    private sealed record Registry(
        ImmutableArray<TrainingMethodDefinition> Methods,
        IReadOnlyList<TrainingConfigKey> Keys,
        IReadOnlyDictionary<string, TrainingConfigKey> ByName,
        IReadOnlyList<BenchmarkMethod> Benchmarks)
    {
        public static Registry Of(ImmutableArray<TrainingMethodDefinition> methods)
        {
            var names = methods.Select(m => m.Name).ToList();
            if (names.Distinct(StringComparer.Ordinal).Count() != names.Count)
            {
                throw new ArgumentException($"Training method names must be unique: {string.Join(", ", names)}.", nameof(methods));
            }

            var keys = new List<TrainingConfigKey>(TrainingConfigKeys.Common);
            var byName = keys.ToDictionary(k => k.Name, StringComparer.Ordinal);
            var declared = new Dictionary<string, TrainingConfigKey>(StringComparer.Ordinal);
            foreach (var option in methods.SelectMany(m => m.Options))
            {
                if (declared.TryGetValue(option.Name, out var seen))
                {
                    if (!ReferenceEquals(seen, option))
                    {
                        throw new ArgumentException($"Two training methods declare different keys named \"{option.Name}\"; share one key object instead.", nameof(methods));
                    }

                    continue;
                }

                if (byName.ContainsKey(option.Name))
                {
                    throw new ArgumentException($"The training method key \"{option.Name}\" is already a trainer key.", nameof(methods));
                }

                declared[option.Name] = option;
                var owners = methods.Where(m => m.Options.Contains(option)).Select(m => m.Name).ToList();
                var own = option.NotUsed;
                var key = option with
                {
                    NotUsed = c => owners.Contains(c.Method) ? own(c) : $"applies to {string.Join(" and ", owners)}",
                };
                keys.Add(key);
                byName[key.Name] = key;
            }

            var benchmarks = methods.SelectMany(m => BenchmarkRows.GetValue(m, Rows)).ToList();
            return new Registry(methods, keys, byName, benchmarks);
        }
    }
}
