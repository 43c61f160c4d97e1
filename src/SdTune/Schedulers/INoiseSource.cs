using static TorchSharp.torch;

namespace SdTune.Schedulers;

/// <summary>Where a stochastic sampler (Euler ancestral, DDIM with η &gt; 0) draws its fresh noise each step.</summary>
public interface INoiseSource
{
    /// <summary>Draws standard normal noise.</summary>
    /// <param name="shape">The full latent shape, batch first.</param>
    /// <param name="dtype">The dtype of the result.</param>
    /// <param name="device">The device of the result.</param>
    Tensor Next(long[] shape, ScalarType dtype, Device device);
}
