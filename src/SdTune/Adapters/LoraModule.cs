using SdTune.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Adapters;

/// <summary>
/// LoRA (LoCon for convolutions): <c>ΔW = (alpha/rank) · up · down</c>, computed in the forward pass as
/// <c>up(dropout(down(x))) · multiplier · scale</c>. For Linear layers <c>lora_down</c>/<c>lora_up</c> are Linear(in, r) /
/// Linear(r, out); for Conv2d, <c>lora_down</c> is a convolution with the layer's kernel, stride and padding and
/// <c>lora_up</c> a 1x1 convolution. Initialised as Microsoft LoRA: kaiming-uniform (a = √5) down, zero up, so a fresh
/// module changes nothing. Training-only regularisers as kohya's: dropout on the rank activations, rank dropout
/// (per-sample rank channels, scale divided by 1 - p) and module dropout.
/// </summary>
public sealed class LoraModule : AdapterModule
{
    private const string DownKey = "lora_down.weight";
    private const string UpKey = "lora_up.weight";

    private readonly nn.Module<Tensor, Tensor> lora_down;
    private readonly nn.Module<Tensor, Tensor> lora_up;
    private readonly int rank;
    private readonly double dropout;
    private readonly double rankDropout;

    /// <summary>Creates a trainable module for <paramref name="target"/> (zero up weights: the layer's output is unchanged).</summary>
    /// <param name="target">The layer to adapt.</param>
    /// <param name="settings">Rank, alpha and dropouts.</param>
    public LoraModule(AdaptedLayer target, AdapterSettings settings)
        : base("lora", target, (settings ?? throw new ArgumentNullException(nameof(settings))).ResolvedAlpha, settings.ModuleDropout)
    {
        if (settings.Rank < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Rank, "The LoRA rank must be at least 1.");
        }

        if (settings.Dropout is < 0 or >= 1 || settings.RankDropout is < 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), "dropout and rank_dropout must be in [0, 1).");
        }

        rank = settings.Rank;
        dropout = settings.Dropout;
        rankDropout = settings.RankDropout;
        var device = target.Weight.device;
        if (target.IsConv)
        {
            lora_down = nn.Conv2d(target.InFeatures, rank, (target.Kernel[0], target.Kernel[1]), stride: (target.Stride[0], target.Stride[1]),
                padding: (target.Padding[0], target.Padding[1]), dilation: (target.Dilation[0], target.Dilation[1]), bias: false, device: device);
            lora_up = nn.Conv2d(rank, target.OutFeatures, 1, bias: false, device: device);
        }
        else
        {
            lora_down = nn.Linear(target.InFeatures, rank, hasBias: false, device: device);
            lora_up = nn.Linear(rank, target.OutFeatures, hasBias: false, device: device);
        }

        using (no_grad())
        {
            nn.init.kaiming_uniform_(DownWeight, a: Math.Sqrt(5));
            nn.init.zeros_(UpWeight);
        }

        register_module("lora_down", lora_down);
        register_module("lora_up", lora_up);
        PaddedConvolution.Guard(this);
    }

    /// <summary>The algorithm's registration: recognised by <c>lora_down.weight</c>; kohya module <c>networks.lora</c>.</summary>
    public static AdapterAlgorithm Algorithm { get; } = new(
        "lora",
        "networks.lora",
        [DownKey, UpKey, "alpha"],
        keys => keys.Contains(DownKey) && keys.Contains(UpKey),
        (target, settings) => new LoraModule(target, settings),
        FromTensors,
        [UpKey]);

    /// <inheritdoc />
    public override int Rank => rank;

    /// <summary>The down projection's weight, [r, in] or [r, in, kh, kw].</summary>
    public Parameter DownWeight => WeightOf(lora_down);

    /// <summary>The up projection's weight, [out, r] or [out, r, 1, 1].</summary>
    public Parameter UpWeight => WeightOf(lora_up);

    /// <inheritdoc />
    public override Tensor DeltaWeight()
    {
        using var scope = NewDisposeScope();
        var product = UpWeight.flatten(1).matmul(DownWeight.flatten(1));
        return (product.reshape(Target.WeightShape) * Scale).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var lx = lora_down.call(input);
        if (training && dropout > 0)
        {
            lx = nn.functional.dropout(lx, dropout, training: true);
        }

        var scale = Scale;
        if (training && rankDropout > 0)
        {
            // One keep/drop decision per sample and rank channel, broadcast over tokens or pixels.
            var mask = (rand([lx.shape[0], rank], device: lx.device) > rankDropout).to(lx.dtype);
            mask = lx.dim() switch
            {
                3 => mask.unsqueeze(1),
                4 => mask.unsqueeze(-1).unsqueeze(-1),
                _ => mask,
            };
            lx = lx * mask;
            scale /= 1.0 - rankDropout;
        }

        return (lora_up.call(lx) * (Multiplier * scale)).MoveToOuterDisposeScope();
    }

    private static Parameter WeightOf(nn.Module<Tensor, Tensor> module) => module switch
    {
        Linear l => l.weight,
        Conv2d c => c.weight,
        _ => throw new InvalidOperationException("LoRA projections are Linear or Conv2d."),
    };

    private static LoraModule FromTensors(AdaptedLayer target, IReadOnlyDictionary<string, Tensor> tensors, string name)
    {
        var down = tensors[DownKey];
        var r = (int)down.shape[0];
        double? alpha = tensors.TryGetValue("alpha", out var a) ? a.to(ScalarType.Float64).item<double>() : null;
        var module = new LoraModule(target, new AdapterSettings(r, alpha));
        CopyInto(module.DownWeight, down, name + "." + DownKey, target);
        CopyInto(module.UpWeight, tensors[UpKey], name + "." + UpKey, target);
        return module;
    }
}
