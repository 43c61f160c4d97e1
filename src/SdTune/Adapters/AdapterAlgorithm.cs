using static TorchSharp.torch;

namespace SdTune.Adapters;

/// <summary>
/// The registration of one adapter algorithm: its name, the kohya <c>ss_network_module</c> that files of it carry,
/// the tensor names a module of it saves, how to recognise it from those names, and how to create one for training or
/// from stored tensors. Each algorithm class exposes one of these; <see cref="AdapterAlgorithms"/> lists them.
/// </summary>
/// <param name="Name">The algorithm's name (LyCORIS <c>algo</c>): <c>lora</c>, <c>loha</c>, <c>lokr</c>.</param>
/// <param name="NetworkModule">What kohya's metadata calls the network module of such files.</param>
/// <param name="TensorNames">Every tensor name (after the module name) a module of this algorithm may store.</param>
/// <param name="Recognizes">Whether a set of stored tensor names is a module of this algorithm.</param>
/// <param name="Create">Creates a fresh trainable module for a layer.</param>
/// <param name="Load">Creates a module from stored tensors (keyed by tensor name); the string names the module in errors.</param>
/// <param name="StrengthFactors">Tensor names of factors the weight delta is linear in, in order of preference: scaling
/// the first one a module stores by <c>w</c> scales its delta by <c>w</c> (how block weights are written into a file).</param>
public sealed record AdapterAlgorithm(
    string Name,
    string NetworkModule,
    IReadOnlyList<string> TensorNames,
    Func<IReadOnlySet<string>, bool> Recognizes,
    Func<AdaptedLayer, AdapterSettings, AdapterModule> Create,
    Func<AdaptedLayer, IReadOnlyDictionary<string, Tensor>, string, AdapterModule> Load,
    IReadOnlyList<string> StrengthFactors);
