namespace SdTune.Models.Unet;

/// <summary>Settings every UNet block shares, taken from the config once.</summary>
/// <param name="TimeEmbeddingDim">Width of the timestep embedding fed to every resnet.</param>
/// <param name="Groups">GroupNorm groups.</param>
/// <param name="Eps">Resnet GroupNorm epsilon.</param>
/// <param name="Dropout">Dropout probability.</param>
/// <param name="UseLinearProjection">Linear (not 1x1 conv) transformer projections.</param>
/// <param name="UpcastAttention">Attention in float32.</param>
internal sealed record UNetBlockSettings(long TimeEmbeddingDim, long Groups, double Eps, double Dropout, bool UseLinearProjection, bool UpcastAttention);
