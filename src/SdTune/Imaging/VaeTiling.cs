namespace SdTune.Imaging;

/// <summary>
/// How <see cref="TiledVae"/> splits work, in latent pixels: tiles of <see cref="TileSize"/> squared that overlap
/// their neighbours by at least <see cref="Overlap"/>. Defaults: 64 (512 image pixels for SD's 8x VAE) with 8 of
/// overlap (64 image pixels of cross-fade).
/// </summary>
public sealed record VaeTiling
{
    /// <summary>Creates a tiling, validating the sizes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">TileSize below 1, Overlap negative or not smaller than half the tile.</exception>
    public VaeTiling(int tileSize = 64, int overlap = 8)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tileSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(overlap);
        if (overlap * 2 > tileSize)
        {
            throw new ArgumentOutOfRangeException(nameof(overlap), overlap, $"The overlap must be at most half the tile size ({tileSize}).");
        }

        TileSize = tileSize;
        Overlap = overlap;
    }

    /// <summary>Tile edge in latent pixels.</summary>
    public int TileSize { get; }

    /// <summary>Minimum overlap between neighbouring tiles in latent pixels.</summary>
    public int Overlap { get; }

    /// <summary>
    /// Tile start positions along one axis of <paramref name="size"/> latent pixels: one tile when it fits,
    /// otherwise the fewest tiles that keep every overlap at least <see cref="Overlap"/>, spread evenly so the last
    /// tile ends at the edge.
    /// </summary>
    internal IReadOnlyList<int> Starts(int size)
    {
        if (size <= TileSize)
        {
            return [0];
        }

        var stride = TileSize - Overlap;
        var count = (size - Overlap + stride - 1) / stride;
        var span = size - TileSize;
        var starts = new int[count];
        for (var k = 0; k < count; k++)
        {
            starts[k] = (int)(((long)k * span + ((count - 1) / 2)) / (count - 1));
        }

        return starts;
    }
}
