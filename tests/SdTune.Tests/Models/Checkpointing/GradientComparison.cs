using TorchSharp;
using TorchSharp.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SdTune.Tests.Models.Checkpointing;

/// <summary>Collects parameter gradients of one backward pass and compares two such collections.</summary>
internal static class GradientComparison
{
    /// <summary>Zeroes the gradients, runs <paramref name="loss"/> backward and returns a copy of every gradient by name.</summary>
    public static Dictionary<string, Tensor> Collect(IReadOnlyList<(string Name, Parameter Parameter)> parameters, Func<Tensor> loss)
    {
        foreach (var (_, p) in parameters)
        {
            p.grad?.zero_();
        }

        using (var scope = NewDisposeScope())
        {
            loss().backward();
        }

        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in parameters)
        {
            var grad = p.grad ?? throw new InvalidOperationException($"Parameter '{name}' received no gradient.");
            result[name] = grad.detach().clone().DetachFromDisposeScope();
        }

        return result;
    }

    /// <summary>
    /// Asserts that both collections hold the same names and gradients within <paramref name="tolerance"/> (absolute),
    /// that the gradients are not all zero, and reports how many differ at all.
    /// </summary>
    public static void AssertEqual(Dictionary<string, Tensor> expected, Dictionary<string, Tensor> actual, double tolerance, ITestOutputHelper output, string label)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        var worst = 0.0;
        var worstName = "";
        var bitDifferent = 0;
        var nonZero = 0;
        foreach (var (name, e) in expected)
        {
            var a = actual[name];
            Assert.Equal(e.shape, a.shape);
            using var scope = NewDisposeScope();
            var diff = (a.to(ScalarType.Float64) - e.to(ScalarType.Float64)).abs().max().item<double>();
            if (diff > worst)
            {
                worst = diff;
                worstName = name;
            }

            if (!a.equal(e).all().item<bool>())
            {
                bitDifferent++;
            }

            if (e.abs().max().item<float>() > 0)
            {
                nonZero++;
            }
        }

        output.WriteLine($"{label}: {expected.Count} gradients, {bitDifferent} not bit-identical, max |diff| {worst:g3}{(worst > 0 ? $" ({worstName})" : "")}");
        Assert.True(nonZero > expected.Count / 2, $"{label}: only {nonZero} of {expected.Count} gradients are non-zero; the comparison would prove little.");
        Assert.True(worst <= tolerance, $"{label}: gradient of '{worstName}' differs by {worst:g3} (> {tolerance:g3}).");
    }

    public static void Dispose(Dictionary<string, Tensor> gradients)
    {
        foreach (var g in gradients.Values)
        {
            g.Dispose();
        }
    }
}
