using SkiaSharp;
using TorchSharp;

namespace SdTune.ToyWorld;

/// <summary>
/// Reads a toy-world picture back into its attributes, rule by rule so every decision can be explained:
/// colours by the border vote and a linear unmixing of each pixel (see the colour stage), size and position from the
/// shape's bounding box, the pattern by correlating where the second colour lies with each pattern's layout, and the
/// shape by the nearest template: the shape's coverage sampled on a 12×12 grid around its centroid and scaled by its spread (plus its aspect ratio), compared
/// with renderings of every shape at every size, sub-pixel offset and a few blur levels made at construction.
/// Works on clean renderings and on the soft, noisy pictures a small diffusion model produces.
/// </summary>
public sealed class ToyEvaluator
{
    private const int Grid = 12;
    private const int TemplateJitters = 8;
    private const double GridSpread = 2.5;
    private const double AspectWeight = 3.0;
    private const double MinPatternCorrelation = 0.3;
    private static readonly double[] TemplateBlurs = [0, 0.6, 1.0];

    private readonly List<Template> _templates = [];

    /// <summary>Builds the shape templates for images of the given side (a fraction of a second).</summary>
    /// <param name="imageSize">The side of the square images to read, 16 to 1024 pixels.</param>
    public ToyEvaluator(int imageSize = 32)
    {
        var generator = new ToyWorldGenerator(imageSize, seed: 0x7E41);
        ImageSize = imageSize;
        var index = 0;
        foreach (var shape in Enum.GetValues<ToyShape>())
        {
            foreach (var size in Enum.GetValues<ToySize>())
            {
                for (var jitter = 0; jitter < TemplateJitters; jitter++)
                {
                    var scene = generator.Jitter(new ToyScene(shape, ToyColor.White, ToyColor.Black, size, ToyPosition.Center), index++);
                    using var bitmap = generator.Render(scene);
                    var clean = ToyRgbImage.FromBitmap(bitmap);
                    foreach (var sigma in TemplateBlurs)
                    {
                        var foreground = ToyForeground.Analyse(clean.Blur(sigma * imageSize / 32.0));
                        if (foreground.MaskCount > 0)
                        {
                            _templates.Add(new Template(shape, size, Describe(foreground), Extent(foreground)));
                        }
                    }
                }
            }
        }
    }

    /// <summary>The side of the images this evaluator reads.</summary>
    public int ImageSize { get; }

    /// <summary>Reads a picture.</summary>
    /// <param name="image">A square RGB image of <see cref="ImageSize"/> pixels.</param>
    /// <exception cref="ArgumentException">The image has another size.</exception>
    public ToyReading Read(SKBitmap image)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckSize(image.Width, image.Height);
        return Read(ToyRgbImage.FromBitmap(image));
    }

    /// <summary>Reads a picture given as a (3, H, W) tensor in [-1, 1] (the pipelines' decoded-image convention).</summary>
    /// <param name="image">The image tensor.</param>
    /// <exception cref="ArgumentException">The tensor is not (3, <see cref="ImageSize"/>, <see cref="ImageSize"/>).</exception>
    public ToyReading Read(torch.Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.dim() == 3)
        {
            CheckSize((int)image.shape[2], (int)image.shape[1]);
        }

        return Read(ToyRgbImage.FromTensor(image));
    }

    /// <summary>Reads a batch of pictures given as an (N, 3, H, W) tensor in [-1, 1].</summary>
    /// <param name="images">The image tensor.</param>
    public IReadOnlyList<ToyReading> ReadBatch(torch.Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4)
        {
            throw new ArgumentException($"Expected an image batch of shape (N, 3, H, W), got ({string.Join(", ", images.shape)}).", nameof(images));
        }

        var readings = new List<ToyReading>((int)images.shape[0]);
        for (var i = 0; i < images.shape[0]; i++)
        {
            using var one = images[i];
            readings.Add(Read(one));
        }

        return readings;
    }

    internal ToyReading Read(ToyRgbImage image)
    {
        var fg = ToyForeground.Analyse(image);
        if (fg.Color is null || fg.MaskCount == 0)
        {
            return new ToyReading { Background = fg.Background, BackgroundConfidence = fg.BackgroundConfidence };
        }

        var (pattern, patternConfidence) = MatchPattern(fg);
        var descriptor = Describe(fg);
        var (shape, shapeConfidence) = NearestShape(descriptor);
        var (size, sizeConfidence) = NearestSize(shape, Extent(fg));
        var (position, positionConfidence) = NearestPosition(fg, size);
        return new ToyReading
        {
            Background = fg.Background,
            BackgroundConfidence = fg.BackgroundConfidence,
            Color = fg.Color,
            ColorConfidence = fg.ColorConfidence,
            SecondColor = fg.SecondColor,
            Pattern = pattern,
            PatternConfidence = patternConfidence,
            Shape = shape,
            ShapeConfidence = shapeConfidence,
            Size = size,
            SizeConfidence = sizeConfidence,
            Position = position,
            PositionConfidence = positionConfidence,
        };
    }

    private void CheckSize(int width, int height)
    {
        if (width != ImageSize || height != ImageSize)
        {
            throw new ArgumentException($"This evaluator reads {ImageSize}x{ImageSize} images; got {width}x{height}. Create a ToyEvaluator for that size.");
        }
    }

    // The square root of the shape's covered area: sub-pixel accurate, and blur keeps the sum of coverage unchanged.
    private static double Extent(ToyForeground fg) => Math.Sqrt(fg.Area);

    /// <summary>
    /// The coverage around the centroid, sampled bilinearly on a fixed grid spanning ±2.5 standard deviations per axis
    /// (continuous in sub-pixel shifts, unlike a thresholded bounding box), and the log aspect ratio of the spreads.
    /// </summary>
    private static double[] Describe(ToyForeground fg)
    {
        var w = fg.Image.Width;
        var h = fg.Image.Height;
        var coverage = fg.Coverage;
        var (cx, cy) = fg.Centroid;
        var (spreadX, spreadY) = fg.Spread;
        double At(int x, int y) => x < 0 || y < 0 || x >= w || y >= h ? 0 : coverage[(y * w) + x];

        var result = new double[(Grid * Grid) + 1];
        for (var gy = 0; gy < Grid; gy++)
        {
            for (var gx = 0; gx < Grid; gx++)
            {
                var sx = cx + ((((gx + 0.5) / Grid) - 0.5) * 2 * GridSpread * spreadX);
                var sy = cy + ((((gy + 0.5) / Grid) - 0.5) * 2 * GridSpread * spreadY);
                var ix = (int)Math.Floor(sx);
                var iy = (int)Math.Floor(sy);
                double fx = sx - ix, fy = sy - iy;
                result[(gy * Grid) + gx] =
                    (At(ix, iy) * (1 - fx) * (1 - fy)) + (At(ix + 1, iy) * fx * (1 - fy)) +
                    (At(ix, iy + 1) * (1 - fx) * fy) + (At(ix + 1, iy + 1) * fx * fy);
            }
        }

        result[Grid * Grid] = AspectWeight * Math.Log(spreadX / spreadY);
        return result;
    }

    private (ToyShape Shape, double Confidence) NearestShape(double[] descriptor)
    {
        var best = new Dictionary<ToyShape, double>();
        foreach (var t in _templates)
        {
            double d = 0;
            for (var i = 0; i < descriptor.Length; i++)
            {
                var diff = descriptor[i] - t.Descriptor[i];
                d += diff * diff;
            }

            d = Math.Sqrt(d);
            if (!best.TryGetValue(t.Shape, out var current) || d < current)
            {
                best[t.Shape] = d;
            }
        }

        var ranked = best.OrderBy(p => p.Value).ToList();
        return (ranked[0].Key, Margin(ranked[0].Value, ranked[1].Value));
    }

    private (ToySize Size, double Confidence) NearestSize(ToyShape shape, double extent)
    {
        var ranked = _templates.Where(t => t.Shape == shape)
            .GroupBy(t => t.Size)
            .Select(g => (Size: g.Key, Distance: g.Min(t => Math.Abs(Math.Log(extent / t.Extent)))))
            .OrderBy(p => p.Distance)
            .ToList();
        return (ranked[0].Size, Margin(ranked[0].Distance, ranked[1].Distance));
    }

    private static (ToyPosition Position, double Confidence) NearestPosition(ToyForeground fg, ToySize size)
    {
        var (x0, y0, x1, y1) = fg.Bounds;
        var cx = (x0 + x1 + 1) / 2.0 / fg.Image.Width;
        var cy = (y0 + y1 + 1) / 2.0 / fg.Image.Height;
        var (column, columnConfidence) = NearestCell(cx, size);
        var (row, rowConfidence) = NearestCell(cy, size);
        return (ToyLayout.FromCell(column, row), Math.Min(columnConfidence, rowConfidence));
    }

    private static (int Index, double Confidence) NearestCell(double centre, ToySize size)
    {
        var ranked = Enumerable.Range(0, 3).Select(i => (Index: i, Distance: Math.Abs(centre - ToyLayout.Centre(i, size)))).OrderBy(p => p.Distance).ToList();
        return (ranked[0].Index, Margin(ranked[0].Distance, ranked[1].Distance));
    }

    /// <summary>
    /// Solid when no second colour was found; otherwise the pattern whose second-colour layout (supersampled over each
    /// pixel of the bounding box) correlates best with where the second colour lies.
    /// </summary>
    private static (ToyPattern? Pattern, double Confidence) MatchPattern(ToyForeground fg)
    {
        if (fg.SecondColor is null)
        {
            return (ToyPattern.Solid, 1 - Math.Min(1, fg.SecondShare / 0.1));
        }

        var fraction = fg.SecondColorFraction();
        var (x0, y0, x1, y1) = fg.Bounds;
        double width = x1 - x0 + 1, height = y1 - y0 + 1;
        var w = fg.Image.Width;
        var bestPattern = ToyPattern.Solid;
        var bestCorrelation = 0.0;
        foreach (var pattern in Enum.GetValues<ToyPattern>().Where(p => p != ToyPattern.Solid))
        {
            var observed = new List<double>(fg.MaskCount);
            var expected = new List<double>(fg.MaskCount);
            for (var i = 0; i < fg.Mask.Length; i++)
            {
                if (!fg.Mask[i])
                {
                    continue;
                }

                int x = i % w, y = i / w;
                var hits = 0;
                for (var sy = 0; sy < 4; sy++)
                {
                    for (var sx = 0; sx < 4; sx++)
                    {
                        var u = (x + ((sx + 0.5) / 4) - x0) / width;
                        var v = (y + ((sy + 0.5) / 4) - y0) / height;
                        hits += ToyPatterns.IsSecond(pattern, u, v) ? 1 : 0;
                    }
                }

                observed.Add(fraction[i]);
                expected.Add(hits / 16.0);
            }

            var r = Correlation(observed, expected);
            if (Math.Abs(r) > Math.Abs(bestCorrelation))
            {
                bestCorrelation = r;
                bestPattern = pattern;
            }
        }

        // A negative correlation means the colours were taken the wrong way round: the pattern fixes which is first.
        if (bestCorrelation < 0)
        {
            fg.SwapColors();
        }

        var strength = Math.Abs(bestCorrelation);
        return strength >= MinPatternCorrelation ? (bestPattern, strength) : (null, strength);
    }

    private static double Correlation(List<double> a, List<double> b)
    {
        var n = a.Count;
        if (n < 2)
        {
            return 0;
        }

        double ma = a.Average(), mb = b.Average(), sab = 0, saa = 0, sbb = 0;
        for (var i = 0; i < n; i++)
        {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }

        return saa <= 1e-12 || sbb <= 1e-12 ? 0 : sab / Math.Sqrt(saa * sbb);
    }

    /// <summary>0 when the best and runner-up are equally close, towards 1 as the runner-up gets relatively farther.</summary>
    private static double Margin(double best, double second) => best + second <= 0 ? 0 : (second - best) / (second + best);

    private sealed record Template(ToyShape Shape, ToySize Size, double[] Descriptor, double Extent);
}
