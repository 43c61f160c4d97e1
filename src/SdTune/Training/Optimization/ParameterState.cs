using static TorchSharp.torch;

namespace SdTune.Training.Optimization;

/// <summary>The state an optimizer keeps for one parameter: its step count and named tensors (moments etc.).</summary>
internal sealed class ParameterState : IDisposable
{
    private readonly List<KeyValuePair<string, Tensor>> tensors = [];

    /// <summary>Number of updates this parameter has received.</summary>
    public long Step { get; set; }

    /// <summary>The named tensors, in the order they were added.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> Tensors => tensors;

    /// <summary>The tensor called <paramref name="name"/>.</summary>
    public Tensor this[string name]
    {
        get
        {
            foreach (var (key, value) in tensors)
            {
                if (key == name)
                {
                    return value;
                }
            }

            throw new KeyNotFoundException($"Optimizer state has no tensor '{name}'.");
        }
    }

    /// <summary>Adds a tensor; it is taken out of any dispose scope because it lives as long as the optimizer.</summary>
    public void Add(string name, Tensor tensor)
    {
        if (tensors.Any(t => t.Key == name))
        {
            throw new InvalidOperationException($"Optimizer state tensor '{name}' added twice.");
        }

        tensors.Add(new(name, tensor.DetachFromDisposeScope()));
    }

    /// <summary>Replaces the tensor called <paramref name="name"/>, disposing the old one.</summary>
    public void Replace(string name, Tensor tensor)
    {
        var index = tensors.FindIndex(t => t.Key == name);
        if (index < 0)
        {
            throw new KeyNotFoundException($"Optimizer state has no tensor '{name}'.");
        }

        tensors[index].Value.Dispose();
        tensors[index] = new(name, tensor.DetachFromDisposeScope());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var (_, tensor) in tensors)
        {
            tensor.Dispose();
        }

        tensors.Clear();
    }
}
