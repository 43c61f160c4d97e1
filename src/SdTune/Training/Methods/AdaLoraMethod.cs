using System.Text.Json;
using System.Text.Json.Nodes;
using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.IO;
using SdTune.Options;
using SdTune.Training.Data;
using SdTune.Training.Optimization;
using static TorchSharp.torch;

namespace SdTune.Training.Methods;

/// <summary>
/// AdaLoRA (Zhang et al., ICLR 2023) on the attention projections (q, k, v, out) and feed-forward layers of the UNet
/// and, unless trained UNet-only, the text encoder(s): SVD-form triplets whose rank budget falls from <c>init_r</c> to
/// <c>target_r</c> per layer on average, spent where the importance scores say (<see cref="AdaLoraAllocator"/>,
/// <see cref="AdaLoraSchedule"/>), with the orthogonality regulariser added to the loss. Output: a standard kohya LoRA
/// whose ranks differ per layer (the kept triplets folded into down/up, alpha = the layer's rank) and
/// <c>NAME_ranks.json</c> with the final rank of every layer.
/// </summary>
public sealed class AdaLoraMethod : ITrainingMethod
{
    /// <summary>Initial rank of every adapted layer, <c>init_r</c> (PEFT default 12).</summary>
    public static readonly TrainingOption<int> InitR = TrainingOption.Integer("init_r", 12, TrainingConfigKeys.Rank, "Initial rank of every adapted layer.");

    /// <summary>Average rank the budget ends at, <c>target_r</c> (PEFT default 8).</summary>
    public static readonly TrainingOption<int> TargetR = TrainingOption.Integer("target_r", 8, TrainingConfigKeys.Rank, "Average rank per layer the budget falls to.");

    /// <summary>Warm-up steps at the initial budget, <c>tinit</c>.</summary>
    public static readonly TrainingOption<int> Tinit = TrainingOption.Integer("tinit", 0, new NumericRange(NumberType.Int32, 0, int.MaxValue), "Warm-up steps before the budget starts to fall.");

    /// <summary>Final steps at the target budget with the mask fixed, <c>tfinal</c>.</summary>
    public static readonly TrainingOption<int> Tfinal = TrainingOption.Integer("tfinal", 0, new NumericRange(NumberType.Int32, 0, int.MaxValue), "Final steps at the target budget, mask fixed.");

    /// <summary>Steps between two allocations, <c>deltaT</c>.</summary>
    public static readonly TrainingOption<int> DeltaT = TrainingOption.Integer("deltaT", 1, NumericRange.Count(), "Steps between two rank allocations.");

    /// <summary>Smoothing of the sensitivity, <c>beta1</c>.</summary>
    public static readonly TrainingOption<double> Beta1 = TrainingOption.Real("beta1", 0.85, new NumericRange(NumberType.Float64, 0, 1, MaxExclusive: true), "Smoothing of the importance (sensitivity).");

    /// <summary>Smoothing of the uncertainty, <c>beta2</c>.</summary>
    public static readonly TrainingOption<double> Beta2 = TrainingOption.Real("beta2", 0.85, new NumericRange(NumberType.Float64, 0, 1, MaxExclusive: true), "Smoothing of the importance's uncertainty.");

    /// <summary>Weight of the orthogonality regulariser, <c>orth_reg_weight</c>.</summary>
    public static readonly TrainingOption<double> OrthRegWeight = TrainingOption.Real("orth_reg_weight", 0.5, NumericRange.NonNegativeFloat32, "Weight of the orthogonality regulariser on P and Q.");

    /// <summary>The method as the rest of SdTune sees it (registered in <see cref="TrainingMethods"/>).</summary>
    public static TrainingMethodDefinition Definition { get; } = new()
    {
        Name = "adalora",
        Summary = "AdaLoRA: SVD-form LoRA whose rank budget moves to the layers that matter; saved as a standard LoRA with per-layer ranks.",
        Create = () => new AdaLoraMethod(),
        Options = [InitR, TargetR, Tinit, Tfinal, DeltaT, Beta1, Beta2, OrthRegWeight, LoraMethod.NetworkAlpha, LoraMethod.NetworkTrainUnetOnly],
        // The run's length may be unknown here (epochs); the phases are checked against it again when it starts.
        Validate = c => ThrowOnProblem(Schedule(c, 1, c.MaxTrainSteps ?? long.MaxValue)),
        Trains = c => new TrainedParts(true, !LoraMethod.NetworkTrainUnetOnly.Value(c), !LoraMethod.NetworkTrainUnetOnly.Value(c)),
        Output = LoraMethod.Definition.Output,
        Benchmarks =
        [
            // The phases scale with the run: warm-up a tenth, final phase a fifth, about 30 allocations in between.
            new("adalora", "AdaLoRA r12 -> 8 (UNet + TE)", (c, _) => c.With(InitR, 12).With(TargetR, 8).With(LoraMethod.NetworkAlpha, 12.0)
                .With(Tinit, (int)((c.MaxTrainSteps ?? 300) / 10)).With(Tfinal, (int)((c.MaxTrainSteps ?? 300) / 5)).With(DeltaT, (int)Math.Max(1, (c.MaxTrainSteps ?? 300) / 30))
                with { LearningRate = 5e-3 }),
        ],
    };

    private LoraNetwork? network;
    private AdaLoraAllocator? allocator;
    private AdaLoraSchedule? schedule;
    private TrainingContext? context;
    private List<(string Name, AdaLoraModule Module)> modules = [];

    /// <inheritdoc />
    public string Name => "adalora";

    /// <inheritdoc />
    public bool TrainsTextEncoder => modules.Any(m => m.Name.StartsWith("lora_te", StringComparison.Ordinal));

    /// <summary>The allocator (after <see cref="Prepare"/>): scores, masks and kept ranks.</summary>
    public AdaLoraAllocator Allocator => allocator ?? throw new InvalidOperationException("The AdaLoRA method is not prepared.");

    /// <summary>The trained modules with their kohya names (after <see cref="Prepare"/>).</summary>
    public IReadOnlyList<(string Name, AdaLoraModule Module)> Modules => modules;

    /// <summary>The budget schedule of a configuration for a network of <paramref name="layers"/> layers and a run of <paramref name="totalSteps"/>.</summary>
    public static AdaLoraSchedule Schedule(TrainingConfig config, int layers, long totalSteps)
    {
        ArgumentNullException.ThrowIfNull(config);
        return new AdaLoraSchedule(InitR.Value(config) * layers, TargetR.Value(config) * layers, Tinit.Value(config), Tfinal.Value(config), DeltaT.Value(config), totalSteps);
    }

    /// <summary>Whether AdaLoRA adapts a layer: attention projections and feed-forward layers (not the transformer's proj_in/proj_out).</summary>
    public static bool IsTarget(LoraComponent component, string path) =>
        component != LoraComponent.Unet || path.Contains(".attn1.", StringComparison.Ordinal) || path.Contains(".attn2.", StringComparison.Ordinal) || path.Contains(".ff.", StringComparison.Ordinal);

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> Prepare(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        this.context = context;
        var config = context.Config;
        var model = context.Model;
        context.CastFrozenWeights();
        var targets = new LoraTargets(model.Unet, model.TextEncoder, model.TextEncoder2);
        var names = new KohyaModuleNames(targets);
        var entries = new List<LoraNetworkEntry>();
        foreach (var component in targets.Present.Where(c => c == LoraComponent.Unet || !LoraMethod.NetworkTrainUnetOnly.Value(config)))
        {
            foreach (var (path, layer) in LoraNetwork.TargetLayers(targets.Get(component)!, includeConvBlocks: false))
            {
                if (!layer.IsConv && IsTarget(component, path))
                {
                    entries.Add(new LoraNetworkEntry(names.Name(component, path), component, path, new AdaLoraModule(layer, InitR.Value(config), LoraMethod.NetworkAlpha.Value(config))));
                }
            }
        }

        modules = [.. entries.Select(e => (e.Name, (AdaLoraModule)e.Module))];
        network = new LoraNetwork(targets.Architecture, entries);
        allocator = new AdaLoraAllocator(modules, Beta1.Value(config), Beta2.Value(config));
        network.train();
        network.Attach();
        return LoraMethod.ParameterGroups(network, config);
    }

    /// <inheritdoc />
    public void SetTrainingMode(bool training) => network?.train(training);

    /// <inheritdoc />
    public void BeforeStep(TrainingStepInfo step)
    {
        if (schedule is null)
        {
            schedule = ThrowOnProblem(Schedule(context!.Config, modules.Count, step.TotalSteps));
        }
    }

    /// <inheritdoc />
    public Tensor ReduceLoss(Tensor perSampleLoss, IReadOnlyList<TrainingSample> samples) => PriorPreservationLoss.WeightedMean(perSampleLoss, samples);

    /// <summary>The orthogonality regulariser: <c>orth_reg_weight</c> times the mean over the P and Q matrices of their penalties (PEFT's form).</summary>
    public Tensor? LossRegularizer()
    {
        var weight = OrthRegWeight.Value(context!.Config);
        if (weight == 0 || modules.Count == 0)
        {
            return null;
        }

        using var scope = NewDisposeScope();
        var total = modules.Select(m => m.Module.OrthogonalityPenalty()).Aggregate((a, b) => a + b);
        return (total * (weight / (2.0 * modules.Count))).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public void GradientsReady(TrainingStepInfo step)
    {
        if (schedule!.ActionAfter(step.GlobalStep) != AdaLoraAction.ApplyFixed)
        {
            Allocator.UpdateScores();
        }
    }

    /// <inheritdoc />
    public void AfterStep(TrainingStepInfo step)
    {
        var s = schedule!;
        switch (s.ActionAfter(step.GlobalStep))
        {
            case AdaLoraAction.Allocate:
                Allocator.Allocate(s.Budget(step.GlobalStep));
                break;
            case AdaLoraAction.Fix:
                Allocator.Allocate(s.TargetBudget);
                break;
            case AdaLoraAction.ApplyFixed:
                Allocator.ApplyMasks();
                break;
        }
    }

    /// <summary>The kept triplets as a standard LoRA network (layers with no triplet left out); the caller disposes it.</summary>
    public LoraNetwork ExportLora()
    {
        var net = network ?? throw new InvalidOperationException("The AdaLoRA method is not prepared.");
        var entries = new List<LoraNetworkEntry>();
        foreach (var entry in net.Entries)
        {
            if (((AdaLoraModule)entry.Module).ToLora(Allocator.Keep(entry.Name)) is { } lora)
            {
                entries.Add(entry with { Module = lora });
            }
        }

        return new LoraNetwork(net.Architecture, entries);
    }

    /// <inheritdoc />
    public IReadOnlyList<string> SaveOutput(string folder, string name, TrainingRunInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        var ctx = context ?? throw new InvalidOperationException("The AdaLoRA method is not prepared.");
        var ranks = Allocator.KeptRanks();
        var config = info.Config;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // Per-layer ranks, as kohya's resize_lora.py marks its dynamic-rank files.
            ["ss_network_dim"] = "Dynamic",
            ["ss_network_alpha"] = "Dynamic",
        };
        using var lora = ExportLora();
        var path = LoraMethod.SaveKohyaFile(Path.Combine(folder, name + ".safetensors"), lora, ctx.PredictionType, info, metadata);
        var ranksPath = Path.Combine(folder, name + "_ranks.json");
        var ranksJson = new JsonObject
        {
            ["step"] = info.Step,
            ["init_r"] = InitR.Value(config),
            ["target_r"] = TargetR.Value(config),
            ["tinit"] = Tinit.Value(config),
            ["tfinal"] = Tfinal.Value(config),
            ["deltaT"] = DeltaT.Value(config),
            ["total_rank"] = ranks.Values.Sum(),
            ["ranks"] = new JsonObject(ranks.Select(kv => new KeyValuePair<string, JsonNode?>(kv.Key, kv.Value))),
        };
        AtomicFile.WriteAllText(ranksPath, ranksJson.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return [ranksPath, path]; // the LoRA last: the output generation applies
    }

    /// <inheritdoc />
    public IReadOnlyList<KeyValuePair<string, Tensor>> GetState() =>
        [.. StateTensors.Copies(network ?? throw new InvalidOperationException("The AdaLoRA method is not prepared.")),
            .. StateTensors.Copies(Allocator.Tensors, StatePrefix)];

    /// <inheritdoc />
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        var net = network ?? throw new InvalidOperationException("The AdaLoRA method is not prepared.");
        var (allocatorState, networkState) = StateTensors.Split(state, StatePrefix);
        StateTensors.CopyInto(net.state_dict(), networkState, "AdaLoRA network");
        StateTensors.CopyInto(Allocator.Tensors, allocatorState, "AdaLoRA allocator");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        network?.Detach();
        network?.Dispose();
        network = null;
        allocator?.Dispose();
        allocator = null;
        modules = [];
    }

    private const string StatePrefix = "adalora_allocator.";

    private static AdaLoraSchedule ThrowOnProblem(AdaLoraSchedule schedule) =>
        schedule.Problem() is { } problem ? throw new TrainingConfigException(problem.Key, problem.Message) : schedule;
}
