using TorchSharp.Modules;

namespace SdTune.Training.Optimization;

/// <summary>
/// A set of trainable parameters that share a learning rate (for example the UNet's, or a text encoder's).
/// </summary>
public sealed class ParameterGroup
{
    private double learningRate;

    /// <summary>Creates a group.</summary>
    /// <param name="name">A name for messages and saved state (for example "unet" or "text_encoder").</param>
    /// <param name="parameters">The parameters; each may belong to one group only.</param>
    /// <param name="learningRate">The base learning rate; schedules scale it (see <see cref="InitialLearningRate"/>).</param>
    /// <exception cref="ArgumentException">The name is empty, there are no parameters, or the rate is negative or not finite.</exception>
    public ParameterGroup(string name, IEnumerable<Parameter> parameters, double learningRate)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(parameters);
        Name = name;
        Parameters = [.. parameters];
        if (Parameters.Count == 0)
        {
            throw new ArgumentException($"Parameter group '{name}' has no parameters.", nameof(parameters));
        }

        CheckLearningRate(learningRate, name);
        InitialLearningRate = learningRate;
        this.learningRate = learningRate;
    }

    /// <summary>The group's name.</summary>
    public string Name { get; }

    /// <summary>The group's own weight decay, or null for the optimizer's (<c>optimizer_args</c> weight_decay).</summary>
    public double? WeightDecay { get; init; }

    /// <summary>The parameters, in the order given.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>The learning rate given at construction; learning-rate schedules multiply it by their factor.</summary>
    public double InitialLearningRate { get; }

    /// <summary>The learning rate the next step uses (set by a schedule, or directly).</summary>
    /// <exception cref="ArgumentException">The value is negative or not finite.</exception>
    public double LearningRate
    {
        get => learningRate;
        set
        {
            CheckLearningRate(value, Name);
            learningRate = value;
        }
    }

    private static void CheckLearningRate(double value, string group)
    {
        if (!double.IsFinite(value) || value < 0)
        {
            throw new ArgumentException($"Parameter group '{group}': learning rate {value} must be finite and >= 0.");
        }
    }
}
