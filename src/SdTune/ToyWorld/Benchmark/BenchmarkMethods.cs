using SdTune.Training;
using SdTune.Training.Methods;

namespace SdTune.ToyWorld.Benchmark;

/// <summary>
/// The methods the concept benchmark runs: a spec's own <c>[[methods]]</c> rows (the shipped spec lists every method
/// with its tuned settings), or else the default rows every registered training method declares
/// (<see cref="TrainingMethodDefinition.Benchmarks"/>), with settings suited to the toy base model (a few hundred steps
/// on five 32-pixel pictures). Each is an ordinary training configuration: the same keys a user would write.
/// </summary>
public static class BenchmarkMethods
{
    /// <summary>LoRA rank 8 on the UNet's transformer blocks and the text encoder's attention and MLP.</summary>
    public static BenchmarkMethod Lora => Get("lora");

    /// <summary>LoCon: LoRA plus rank-8 adapters on the ResNet convolutions.</summary>
    public static BenchmarkMethod LoCon => Get("locon");

    /// <summary>DreamBooth: the whole UNet and text encoder fine-tuned on the instance pictures.</summary>
    public static BenchmarkMethod DreamBooth => Get("dreambooth");

    /// <summary>DreamBooth with prior preservation (40 class pictures from the base model).</summary>
    public static BenchmarkMethod DreamBoothPrior => Get("dreambooth-prior");

    /// <summary>Every row, in registration order.</summary>
    public static IReadOnlyList<BenchmarkMethod> All => TrainingMethods.Benchmarks;

    /// <summary>The rows a spec runs: its own <c>[[methods]]</c> when it has some, else <see cref="All"/>.</summary>
    public static IReadOnlyList<BenchmarkMethod> For(BenchmarkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Methods.Count > 0 ? [.. spec.Methods.Select(m => m.ToBenchmarkMethod())] : All;
    }

    /// <summary>The row called <paramref name="name"/> among <paramref name="rows"/> (default: <see cref="All"/>).</summary>
    /// <exception cref="ArgumentException">No such row; the message lists the known ones.</exception>
    public static BenchmarkMethod Get(string name, IReadOnlyList<BenchmarkMethod>? rows = null)
    {
        rows ??= All;
        return rows.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"Unknown benchmark method '{name}'; known: {string.Join(", ", rows.Select(m => m.Name))}.", nameof(name));
    }
}
