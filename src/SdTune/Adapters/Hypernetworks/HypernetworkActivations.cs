using static TorchSharp.torch;

namespace SdTune.Adapters.Hypernetworks;

/// <summary>
/// The activations a hypernetwork layer may use, by A1111's names: <c>linear</c> (none), <c>relu</c>, <c>leakyrelu</c>,
/// <c>elu</c>, <c>swish</c> (PyTorch's Hardswish, as A1111 maps it), <c>tanh</c>, <c>sigmoid</c>, and the parameter-free,
/// shape-keeping classes of <c>torch.nn.modules.activation</c> by lower-case class name with their default arguments
/// (<c>gelu</c>, <c>mish</c>, <c>silu</c>, <c>softplus</c>, ...).
/// </summary>
public static class HypernetworkActivations
{
    /// <summary>The name of "no activation" (A1111 also reads a missing <c>activation_func</c> as this).</summary>
    public const string Linear = "linear";

    private static readonly Dictionary<string, Func<nn.Module<Tensor, Tensor>>> Factories = new(StringComparer.Ordinal)
    {
        ["relu"] = () => nn.ReLU(),
        ["leakyrelu"] = () => nn.LeakyReLU(),
        ["elu"] = () => nn.ELU(),
        ["swish"] = () => nn.Hardswish(),
        ["tanh"] = () => nn.Tanh(),
        ["sigmoid"] = () => nn.Sigmoid(),
        ["gelu"] = () => nn.GELU(),
        ["mish"] = () => nn.Mish(),
        ["silu"] = () => nn.SiLU(),
        ["softplus"] = () => nn.Softplus(),
        ["celu"] = () => nn.CELU(),
        ["selu"] = () => nn.SELU(),
        ["relu6"] = () => nn.ReLU6(),
        ["hardswish"] = () => nn.Hardswish(),
        ["hardsigmoid"] = () => nn.Hardsigmoid(),
        ["hardtanh"] = () => nn.Hardtanh(),
        ["logsigmoid"] = () => nn.LogSigmoid(),
        ["softsign"] = () => nn.Softsign(),
        ["tanhshrink"] = () => nn.Tanhshrink(),
        ["hardshrink"] = () => nn.Hardshrink(),
        ["softshrink"] = () => nn.Softshrink(),
    };

    /// <summary>Every accepted name, <c>linear</c> first.</summary>
    public static IReadOnlyList<string> Names { get; } = [Linear, .. Factories.Keys];

    /// <summary>Whether <paramref name="name"/> means no activation (<c>linear</c>, or none given).</summary>
    public static bool IsLinear(string? name) => name is null or Linear;

    /// <summary>The activation module for <paramref name="name"/>; null for <c>linear</c>.</summary>
    /// <exception cref="ArgumentException">An unknown name; the message lists the valid ones.</exception>
    public static nn.Module<Tensor, Tensor>? Create(string? name) =>
        IsLinear(name) ? null : Factories.TryGetValue(name!, out var factory) ? factory() : throw Unknown(name!);

    /// <summary>Throws for a name that is not an activation.</summary>
    /// <exception cref="ArgumentException">An unknown name; the message lists the valid ones.</exception>
    public static void Check(string? name)
    {
        if (!IsLinear(name) && !Factories.ContainsKey(name!))
        {
            throw Unknown(name!);
        }
    }

    private static ArgumentException Unknown(string name) =>
        new($"unknown hypernetwork activation \"{name}\"; use one of {string.Join(", ", Names)}.");
}
