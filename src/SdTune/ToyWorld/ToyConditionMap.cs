namespace SdTune.ToyWorld;

/// <summary>
/// A condition image of a scene for ControlNet and T2I-Adapter: where the shape is, drawn white on black with the
/// picture's geometry (<see cref="ToyWorldGenerator.RenderCondition"/>); colours, background and pattern are left out.
/// </summary>
public enum ToyConditionMap
{
    /// <summary>The shape's filled silhouette (a segmentation mask).</summary>
    Mask,

    /// <summary>The shape's outline (an edge map, as a Canny or HED preprocessor gives).</summary>
    Edges,
}
