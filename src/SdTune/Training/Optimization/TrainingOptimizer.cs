using System.Globalization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Training.Optimization;

/// <summary>
/// Shared machinery of SdTune's optimizers: parameter groups, lazily created per-parameter state, a dispose scope and
/// no-grad mode around every step, and export/import of the full state.
/// </summary>
/// <remarks>
/// State entries are named <c>group.{g}.learning_rate</c>, <c>group.{g}.parameter_count</c>,
/// <c>param.{g}.{i}.step</c>, <c>param.{g}.{i}.{tensor}</c> (i is the parameter's index in group g) and
/// <c>scalar.{name}</c> for optimizer-wide values such as Prodigy's d.
/// </remarks>
public abstract class TrainingOptimizer : IStatefulOptimizer
{
    private readonly ParameterState?[][] states;
    private bool disposed;

    private protected TrainingOptimizer(string name, IEnumerable<ParameterGroup> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        Name = name;
        Groups = [.. groups];
        if (Groups.Count == 0)
        {
            throw new ArgumentException($"{name}: no parameter groups.", nameof(groups));
        }

        var seen = new HashSet<IntPtr>();
        foreach (var group in Groups)
        {
            foreach (var parameter in group.Parameters)
            {
                if (!seen.Add(parameter.Handle))
                {
                    throw new ArgumentException($"{name}: a parameter of group '{group.Name}' appears more than once across the groups.", nameof(groups));
                }
            }
        }

        states = [.. Groups.Select(g => new ParameterState?[g.Parameters.Count])];
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public IReadOnlyList<ParameterGroup> Groups { get; }

    /// <inheritdoc />
    public void Step()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        StepCore();
    }

    /// <inheritdoc />
    public void ZeroGrad()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        foreach (var parameter in Groups.SelectMany(g => g.Parameters))
        {
            parameter.grad = null;
        }
    }

    /// <inheritdoc />
    public OptimizerSnapshot GetState()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var entries = new List<KeyValuePair<string, Tensor>>();
        try
        {
            using var noGrad = no_grad();
            for (var g = 0; g < Groups.Count; g++)
            {
                entries.Add(new($"group.{g}.learning_rate", tensor(Groups[g].LearningRate, float64)));
                entries.Add(new($"group.{g}.parameter_count", tensor((long)Groups[g].Parameters.Count, int64)));
                for (var i = 0; i < states[g].Length; i++)
                {
                    if (states[g][i] is not { } state)
                    {
                        continue;
                    }

                    entries.Add(new($"param.{g}.{i}.step", tensor(state.Step, int64)));
                    foreach (var (name, value) in state.Tensors)
                    {
                        entries.Add(new($"param.{g}.{i}.{name}", value.detach().clone()));
                    }
                }
            }

            foreach (var (name, value) in GetScalars())
            {
                entries.Add(new($"scalar.{name}", tensor(value, float64)));
            }

            return new OptimizerSnapshot(Name, entries);
        }
        catch
        {
            foreach (var (_, value) in entries)
            {
                value.Dispose();
            }

            throw;
        }
    }

    /// <inheritdoc />
    public void LoadState(OptimizerSnapshot state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!string.Equals(state.OptimizerName, Name, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"Optimizer state was saved by {state.OptimizerName}, not {Name}.");
        }

        var loaded = Groups.Select(g => new ParameterState?[g.Parameters.Count]).ToArray();
        try
        {
            using var noGrad = no_grad();
            var learningRates = ReadGroups(state);
            var scalars = ReadScalars(state);
            foreach (var (key, value) in state.Tensors)
            {
                if (key.StartsWith("param.", StringComparison.Ordinal))
                {
                    LoadParameterEntry(key, value, loaded);
                }
                else if (!key.StartsWith("group.", StringComparison.Ordinal) && !key.StartsWith("scalar.", StringComparison.Ordinal))
                {
                    throw new InvalidDataException($"{Name} state: unknown entry '{key}'.");
                }
            }

            CheckComplete(state, loaded);
            SetScalars(scalars);
            for (var g = 0; g < Groups.Count; g++)
            {
                Groups[g].LearningRate = learningRates[g];
                for (var i = 0; i < states[g].Length; i++)
                {
                    states[g][i]?.Dispose();
                    states[g][i] = loaded[g][i];
                }
            }
        }
        catch
        {
            foreach (var state1 in loaded.SelectMany(s => s))
            {
                state1?.Dispose();
            }

            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        foreach (var state in states.SelectMany(s => s))
        {
            state?.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>The update itself; runs in no-grad mode inside a dispose scope.</summary>
    private protected abstract void StepCore();

    /// <summary>Creates the initial state tensors of <paramref name="parameter"/> (zeros etc.) with <see cref="ParameterState.Add"/>.</summary>
    private protected abstract void InitializeState(Parameter parameter, ParameterState state);

    /// <summary>Optimizer-wide scalars to save (for example Prodigy's d).</summary>
    private protected virtual IEnumerable<KeyValuePair<string, double>> GetScalars() => [];

    /// <summary>Restores the scalars of <see cref="GetScalars"/>; called with exactly the same names.</summary>
    private protected virtual void SetScalars(IReadOnlyDictionary<string, double> values)
    {
    }

    /// <summary>Whether a saved state tensor may have a shape other than the freshly initialised one (it is then adopted as stored).</summary>
    private protected virtual bool AcceptsAnyShape(string tensorName) => false;

    /// <summary>
    /// The parameters that have a gradient, with their gradients. Each one is handed out inside a dispose scope of its
    /// own, disposed when the loop moves on to the next parameter (or leaves): the temporaries the loop body creates for
    /// a parameter, parameter-sized for most updates, are freed before the next parameter's, so a step needs scratch
    /// memory for one parameter rather than for all of them at once. A tensor the body keeps beyond its iteration must be
    /// taken out of the scope (state tensors are, by <see cref="ParameterState.Add"/>).
    /// </summary>
    private protected IEnumerable<(int Group, int Index, Parameter Parameter, Tensor Gradient)> ParametersWithGradients()
    {
        for (var g = 0; g < Groups.Count; g++)
        {
            var parameters = Groups[g].Parameters;
            for (var i = 0; i < parameters.Count; i++)
            {
                using var scope = NewDisposeScope();
                if (parameters[i].grad is { } gradient)
                {
                    yield return (g, i, parameters[i], gradient);
                }
            }
        }
    }

    /// <summary>The state of parameter <paramref name="index"/> of group <paramref name="group"/>, created on first use.</summary>
    private protected ParameterState StateOf(int group, int index)
    {
        if (states[group][index] is { } existing)
        {
            return existing;
        }

        var state = new ParameterState();
        InitializeState(Groups[group].Parameters[index], state);
        states[group][index] = state;
        return state;
    }

    private double[] ReadGroups(OptimizerSnapshot state)
    {
        var rates = new double[Groups.Count];
        for (var g = 0; g < Groups.Count; g++)
        {
            rates[g] = ReadScalar<double>(state, $"group.{g}.learning_rate", ScalarType.Float64);
            var count = ReadScalar<long>(state, $"group.{g}.parameter_count", ScalarType.Int64);
            if (count != Groups[g].Parameters.Count)
            {
                throw new InvalidDataException($"{Name} state: group {g} had {count} parameters, but group '{Groups[g].Name}' has {Groups[g].Parameters.Count}.");
            }
        }

        if (state.Tensors.ContainsKey($"group.{Groups.Count}.learning_rate"))
        {
            throw new InvalidDataException($"{Name} state has more than the {Groups.Count} parameter groups of this optimizer.");
        }

        return rates;
    }

    private Dictionary<string, double> ReadScalars(OptimizerSnapshot state)
    {
        var expected = GetScalars().Select(s => s.Key).ToHashSet(StringComparer.Ordinal);
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var key in state.Tensors.Keys.Where(k => k.StartsWith("scalar.", StringComparison.Ordinal)))
        {
            var name = key["scalar.".Length..];
            if (!expected.Contains(name))
            {
                throw new InvalidDataException($"{Name} state: unknown entry '{key}'.");
            }

            values[name] = ReadScalar<double>(state, key, ScalarType.Float64);
        }

        var missing = expected.Where(n => !values.ContainsKey(n)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidDataException($"{Name} state lacks {string.Join(", ", missing.Select(m => "'scalar." + m + "'"))}.");
        }

        return values;
    }

    private T ReadScalar<T>(OptimizerSnapshot state, string key, ScalarType type)
        where T : unmanaged
    {
        if (!state.Tensors.TryGetValue(key, out var value))
        {
            throw new InvalidDataException($"{Name} state lacks '{key}'.");
        }

        if (value.dtype != type || value.dim() != 0)
        {
            throw new InvalidDataException($"{Name} state: '{key}' must be a 0-d {type} tensor, not {value.dtype} [{string.Join(", ", value.shape)}].");
        }

        return value.item<T>();
    }

    private void LoadParameterEntry(string key, Tensor value, ParameterState?[][] loaded)
    {
        // param.{g}.{i}.{name}
        var parts = key.Split('.', 4);
        if (parts.Length != 4
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var g)
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var i)
            || g >= Groups.Count || i >= Groups[g].Parameters.Count)
        {
            throw new InvalidDataException($"{Name} state: entry '{key}' names no parameter of this optimizer.");
        }

        var parameter = Groups[g].Parameters[i];
        var state = loaded[g][i];
        if (state is null)
        {
            state = new ParameterState();
            loaded[g][i] = state;
            using var scope = NewDisposeScope();
            InitializeState(parameter, state);
        }

        var name = parts[3];
        if (name == "step")
        {
            if (value.dtype != ScalarType.Int64 || value.dim() != 0)
            {
                throw new InvalidDataException($"{Name} state: '{key}' must be a 0-d Int64 tensor.");
            }

            state.Step = value.item<long>();
            return;
        }

        if (!state.Tensors.Any(t => t.Key == name))
        {
            throw new InvalidDataException($"{Name} state: unknown entry '{key}' (a {parameter.dim()}-d parameter has no '{name}').");
        }

        var target = state[name];
        if (target.shape.SequenceEqual(value.shape))
        {
            target.copy_(value);
        }
        else if (AcceptsAnyShape(name))
        {
            state.Replace(name, value.to(target.dtype, target.device, copy: true));
        }
        else
        {
            throw new InvalidDataException($"{Name} state: '{key}' has shape [{string.Join(", ", value.shape)}], but parameter {i} of group '{Groups[g].Name}' needs [{string.Join(", ", target.shape)}].");
        }
    }

    private void CheckComplete(OptimizerSnapshot state, ParameterState?[][] loaded)
    {
        for (var g = 0; g < loaded.Length; g++)
        {
            for (var i = 0; i < loaded[g].Length; i++)
            {
                if (loaded[g][i] is not { } parameterState)
                {
                    continue;
                }

                foreach (var name in parameterState.Tensors.Select(t => t.Key).Append("step"))
                {
                    var key = $"param.{g}.{i}.{name}";
                    if (!state.Tensors.ContainsKey(key))
                    {
                        throw new InvalidDataException($"{Name} state lacks '{key}'.");
                    }
                }
            }
        }
    }
}
