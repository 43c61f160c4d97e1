using System.Globalization;
using SdTune.Training;

namespace SdTune.ToyWorld.Benchmark;

/// <summary>
/// <c>sdtune bench tune</c>: each method at its best, as the papers compare them. Every row of the benchmark is run at
/// a small grid of learning rates (its own times each factor; <c>unet_lr</c> and <c>text_encoder_lr</c> scale with it)
/// and step counts, scored as the benchmark scores, and the setting chosen by a stated rule (<see cref="Choose"/>):
/// among the settings that learn the subject (mean subject fidelity above the base model's), the highest subject
/// fidelity whose prior preservation is at least <see cref="TuningOptions.MinPriorPreservation"/>; when none keeps that
/// bar, the best trade-off, subject fidelity × prior preservation (ties: fewer steps, then the lower rate). The chosen
/// values are then written into the spec by hand, so the table the benchmark prints is the frozen, tuned one.
/// </summary>
public static class MethodTuning
{
    /// <summary>Runs the sweep.</summary>
    /// <param name="options">The benchmark to tune (its methods, spec, seeds); its step count is replaced by the sweep's.</param>
    /// <param name="tuning">The grid and the rule.</param>
    /// <param name="log">Receives progress lines.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static TuningResult Run(BenchmarkOptions options, TuningOptions tuning, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(tuning);
        tuning.Validate();
        var subject = new BenchmarkSubject(options.Spec.Identifier, options.Spec.ClassWord);
        var variants = new List<(BenchmarkMethod Row, BenchmarkMethod Variant, double LearningRate, int Steps)>();
        foreach (var row in options.Methods)
        {
            var own = row.Configure(new TrainingConfig { PretrainedModel = options.BaseModel, OutputDir = "out", DatasetConfig = "dataset.toml", MaxTrainSteps = options.Steps }, subject);
            foreach (var factor in tuning.LearningRateFactors)
            {
                foreach (var steps in tuning.StepCounts)
                {
                    var rate = own.LearningRate * factor;
                    var name = string.Create(CultureInfo.InvariantCulture, $"{row.Name}-lr{rate:G3}-steps{steps}");
                    var variant = row with
                    {
                        Name = name,
                        Configure = (c, s) => Scale(row.Configure(c, s), factor) with { MaxTrainSteps = steps },
                    };
                    variants.Add((row, variant, rate, steps));
                }
            }
        }

        var summaries = MethodBenchmark.Run(options with { Methods = [.. variants.Select(v => v.Variant)] }, log);
        var measured = variants.Select((v, i) => new TuningVariant(v.Row.Name, v.LearningRate, v.Steps, summaries[i + 1])).ToList();
        var chosen = measured.GroupBy(v => v.Method, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => Choose(g, tuning.MinPriorPreservation, summaries[0].Mean.SubjectFidelity), StringComparer.Ordinal);
        return new TuningResult(summaries[0], measured, chosen, tuning);
    }

    /// <summary>
    /// The rule. Only settings that learn the subject (mean subject fidelity above <paramref name="baseSubjectFidelity"/>)
    /// are chosen: the one with the highest subject fidelity among those whose prior preservation is at the bar, or,
    /// when none keeps the bar, the one with the highest subject fidelity × prior preservation. Ties go to fewer steps,
    /// then the lower rate. Null when no setting learns the subject.
    /// </summary>
    /// <param name="variants">One method's settings.</param>
    /// <param name="minPriorPreservation">The bar.</param>
    /// <param name="baseSubjectFidelity">The base model's subject fidelity.</param>
    public static TuningChoice? Choose(IEnumerable<TuningVariant> variants, double minPriorPreservation, double baseSubjectFidelity)
    {
        ArgumentNullException.ThrowIfNull(variants);
        var learners = variants.Where(v => v.Summary.Mean.SubjectFidelity > baseSubjectFidelity + 1e-9).ToList();
        var keeping = learners.Where(v => v.Summary.Mean.PriorPreservation >= minPriorPreservation - 1e-9).ToList();
        return keeping.Count > 0
            ? new TuningChoice(Best(keeping, v => v.Summary.Mean.SubjectFidelity), KeepsBar: true)
            : learners.Count > 0
                ? new TuningChoice(Best(learners, v => v.Summary.Mean.SubjectFidelity * v.Summary.Mean.PriorPreservation), KeepsBar: false)
                : null;
    }

    private static TuningVariant Best(IEnumerable<TuningVariant> variants, Func<TuningVariant, double> score) =>
        variants.OrderByDescending(v => Math.Round(score(v), 9)).ThenBy(v => v.Steps).ThenBy(v => v.LearningRate).First();

    /// <summary>The sweep as markdown: every setting's scores, then each method's choice.</summary>
    public static string ToMarkdown(TuningResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = new System.Text.StringBuilder(MethodBenchmark.ToMarkdown([result.Base, .. result.Variants.Select(v => v.Summary)]));
        text.AppendLine().AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Chosen: among the settings that learn the subject (subject fidelity above the base model's), the highest subject fidelity with prior preservation >= {result.Options.MinPriorPreservation * 100:F0}%; when none keeps that bar, the highest subject fidelity × prior preservation; ties: fewer steps, lower rate.")).AppendLine();
        text.AppendLine("| method | learning_rate | max_train_steps | subject fidelity | prior preservation | chosen by |").AppendLine("|---|---|---|---|---|---|");
        foreach (var (method, choice) in result.Chosen)
        {
            text.AppendLine(choice is null
                ? $"| {method} | – | – | no setting learns the subject | – | – |"
                : string.Create(CultureInfo.InvariantCulture,
                    $"| {method} | {choice.Variant.LearningRate:G3} | {choice.Variant.Steps} | {choice.Variant.Summary.Mean.SubjectFidelity * 100:F0}% | {choice.Variant.Summary.Mean.PriorPreservation * 100:F0}% | {(choice.KeepsBar ? "the bar" : "the trade-off")} |"));
        }

        return text.ToString();
    }

    private static TrainingConfig Scale(TrainingConfig config, double factor) => config with
    {
        LearningRate = config.LearningRate * factor,
        UnetLr = config.UnetLr * factor,
        TextEncoderLr = config.TextEncoderLr * factor,
    };
}

/// <summary>The grid and the rule of <see cref="MethodTuning"/>.</summary>
public sealed record TuningOptions
{
    /// <summary>Factors applied to each row's own learning rate.</summary>
    public IReadOnlyList<double> LearningRateFactors { get; init; } = [0.3, 1, 3];

    /// <summary>Step counts tried.</summary>
    public IReadOnlyList<int> StepCounts { get; init; } = [150, 300, 600];

    /// <summary>The prior preservation a setting must keep to be chosen.</summary>
    public double MinPriorPreservation { get; init; } = 0.8;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names the option.</exception>
    public void Validate()
    {
        if (LearningRateFactors.Count == 0 || LearningRateFactors.Any(f => !(f > 0) || double.IsInfinity(f)))
        {
            throw new ArgumentException("--lr-factors: give one or more positive, finite factors.");
        }

        if (StepCounts.Count == 0 || StepCounts.Any(s => s < 1))
        {
            throw new ArgumentException("--step-counts: give one or more step counts of at least 1.");
        }

        if (MinPriorPreservation is < 0 or > 1)
        {
            throw new ArgumentException($"--min-prior must be in [0, 1] (got {MinPriorPreservation}).");
        }
    }
}

/// <summary>One setting of the sweep and its scores.</summary>
/// <param name="Method">The benchmark row it varies.</param>
/// <param name="LearningRate">The learning rate used.</param>
/// <param name="Steps">The step count used.</param>
/// <param name="Summary">Its scores over the seeds.</param>
public sealed record TuningVariant(string Method, double LearningRate, int Steps, MethodSummary Summary);

/// <summary>What <see cref="MethodTuning.Run"/> measured and chose.</summary>
/// <param name="Base">The base model's scores.</param>
/// <param name="Variants">Every setting of every row.</param>
/// <param name="Chosen">Each row's chosen setting (null when no setting learns the subject).</param>
/// <param name="Options">The grid and rule used.</param>
public sealed record TuningResult(MethodSummary Base, IReadOnlyList<TuningVariant> Variants, IReadOnlyDictionary<string, TuningChoice?> Chosen, TuningOptions Options);

/// <summary>A method's chosen setting and which part of the rule chose it.</summary>
/// <param name="Variant">The setting.</param>
/// <param name="KeepsBar">True when it keeps prior preservation at the bar; false when no learning setting does and it is the best trade-off.</param>
public sealed record TuningChoice(TuningVariant Variant, bool KeepsBar);
