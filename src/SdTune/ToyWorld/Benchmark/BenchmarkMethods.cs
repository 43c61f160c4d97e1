using SdTune.Training;

namespace SdTune.ToyWorld.Benchmark;

/// <summary>
/// The methods the concept benchmark knows, with settings suited to the toy base model (a few hundred steps on five
/// 32-pixel pictures). Each is an ordinary training configuration: the same keys a user would write.
/// </summary>
public static class BenchmarkMethods
{
    /// <summary>LoRA rank 8 on the UNet's transformer blocks and the text encoder's attention and MLP.</summary>
    public static BenchmarkMethod Lora { get; } = new("lora", "LoRA r8 (UNet + text encoder)", c => c with
    {
        Method = "lora",
        NetworkDim = 8,
        NetworkAlpha = 8,
        LearningRate = 5e-3,
    }, ProducesAdapter: true);

    /// <summary>LoCon: LoRA plus rank-8 adapters on the ResNet convolutions.</summary>
    public static BenchmarkMethod LoCon { get; } = new("locon", "LoCon r8, conv r8", c => c with
    {
        Method = "lora",
        NetworkDim = 8,
        NetworkAlpha = 8,
        NetworkArgs = ["conv_dim=8", "conv_alpha=8"],
        LearningRate = 5e-3,
    }, ProducesAdapter: true);

    /// <summary>DreamBooth: the whole UNet and text encoder fine-tuned on the instance pictures.</summary>
    public static BenchmarkMethod DreamBooth { get; } = new("dreambooth", "DreamBooth (UNet + text encoder)", c => c with
    {
        Method = "dreambooth",
        LearningRate = 5e-4,
        TrainTextEncoder = true,
    }, ProducesAdapter: false);

    /// <summary>
    /// DreamBooth with prior preservation: 40 class pictures made by the base model from the spec's class prompt at
    /// random placements, trained alongside as kohya's regularisation images (prior loss weight 1).
    /// </summary>
    public static BenchmarkMethod DreamBoothPrior { get; } = new("dreambooth-prior", "DreamBooth + prior preservation", c => c with
    {
        Method = "dreambooth",
        LearningRate = 5e-4,
        TrainTextEncoder = true,
        PriorLossWeight = 1.0,
    }, ProducesAdapter: false, ClassImages: 40);

    /// <summary>Every method, in table order.</summary>
    public static IReadOnlyList<BenchmarkMethod> All { get; } = [Lora, LoCon, DreamBooth, DreamBoothPrior];

    /// <summary>The method called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">No such method; the message lists the known ones.</exception>
    public static BenchmarkMethod Get(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"Unknown benchmark method '{name}'; known: {string.Join(", ", All.Select(m => m.Name))}.", nameof(name));
}
