namespace SdTune.Pipelines.Control;

/// <summary>The kind of side network a <see cref="ControlRequest"/> names.</summary>
public enum ControlType
{
    /// <summary>A ControlNet: run at every step inside its guidance window, its residuals added to the UNet's skips and mid block.</summary>
    ControlNet,

    /// <summary>A T2I-Adapter: features computed once from the image, added inside the UNet's down blocks at the steps inside its window.</summary>
    T2IAdapter,
}
