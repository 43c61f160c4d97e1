using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Models.Layers;

/// <summary>
/// Sinusoidal embedding of (possibly fractional) timesteps, as in DDPM/LDM: frequencies
/// exp(-ln(10000) * i / (half - freqShift)), output [sin | cos], or [cos | sin] when flipped.
/// Computed in float32 whatever the input type, like the reference.
/// </summary>
internal sealed class Timesteps : nn.Module<Tensor, Tensor>
{
    private readonly long channels;
    private readonly bool flipSinToCos;
    private readonly double freqShift;

    public Timesteps(long channels, bool flipSinToCos, double freqShift)
        : base(nameof(Timesteps))
    {
        this.channels = channels;
        this.flipSinToCos = flipSinToCos;
        this.freqShift = freqShift;
        RegisterComponents();
    }

    /// <summary>Embeds a 1-D tensor of N timesteps into (N, channels) float32.</summary>
    public override Tensor forward(Tensor timesteps)
    {
        if (timesteps.dim() != 1)
        {
            throw new ArgumentException($"Timestep embedding expects a 1-D tensor of timesteps, got shape [{string.Join(", ", timesteps.shape)}].", nameof(timesteps));
        }

        using var scope = NewDisposeScope();
        var half = channels / 2;
        var exponent = arange(0, half, dtype: ScalarType.Float32, device: timesteps.device) * -Math.Log(10000.0) / (half - freqShift);
        var frequencies = exp(exponent);
        var args = timesteps.to(ScalarType.Float32).unsqueeze(1) * frequencies.unsqueeze(0);
        var embedding = flipSinToCos ? cat([cos(args), sin(args)], -1) : cat([sin(args), cos(args)], -1);
        if (channels % 2 == 1)
        {
            embedding = nn.functional.pad(embedding, (0, 1), PaddingModes.Constant, 0.0);
        }

        return embedding.MoveToOuterDisposeScope();
    }
}
