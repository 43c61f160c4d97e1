using static TorchSharp.torch;

namespace SdTune.Models.Control.Adapter;

/// <summary>The body of a T2I-Adapter, one class per <c>adapter_type</c>: image in, one feature per level out.</summary>
internal abstract class T2IAdapterNetwork : nn.Module<Tensor, Tensor[]>
{
    protected T2IAdapterNetwork(string name)
        : base(name)
    {
    }

    /// <summary>Runs <paramref name="blocks"/> in turn on <paramref name="input"/>, keeping every block's output.</summary>
    protected static Tensor[] Features(Tensor input, IEnumerable<nn.Module<Tensor, Tensor>> blocks)
    {
        using var scope = NewDisposeScope();
        var features = new List<Tensor>();
        var x = input;
        foreach (var block in blocks)
        {
            x = block.call(x);
            features.Add(x);
        }

        scope.MoveToOuter(features);
        return [.. features];
    }

    /// <summary>Halves the resolution as the adapters do: 2x2 average pooling, a partial last window kept (ceil mode).</summary>
    internal static Tensor Downsample(Tensor x) => nn.functional.avg_pool2d(x, 2, 2, ceil_mode: true);
}
