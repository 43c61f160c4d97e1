namespace SdTune.ToyWorld;

/// <summary>
/// The colour stage of the evaluator. The background is the palette colour most border pixels are nearest to. Every
/// other pixel is explained as a mix of the measured background and one palette colour (antialiasing and blur mix
/// linearly), picking the colour that leaves the smallest residual; the shape colour is the colour with the most
/// coverage-weighted votes, and a second colour is one that explains a good share of the remaining pixels. The
/// foreground mask is the largest 8-connected region whose coverage exceeds one half.
/// </summary>
internal sealed class ToyForeground
{
    /// <summary>The share of the shape a second colour must explain to count as a pattern.</summary>
    private const double SecondColorShare = 0.1;

    /// <summary>How much smaller (in RGB distance) a pixel's residual must be for another colour than for the shape colour to vote for a second colour.</summary>
    private const double SecondColorMargin = 15;

    /// <summary>Pixels whose best coverage is above this vote for a shape colour.</summary>
    private const double StrongCoverage = 0.5;

    private ToyForeground(ToyRgbImage image)
    {
        Image = image;
    }

    public ToyRgbImage Image { get; }

    public ToyColor Background { get; private set; }

    public double BackgroundConfidence { get; private set; }

    public ToyColor? Color { get; private set; }

    public double ColorConfidence { get; private set; }

    public ToyColor? SecondColor { get; private set; }

    /// <summary>The share of the shape's coverage explained by the second best colour (whether or not it counts as a pattern).</summary>
    public double SecondShare { get; private set; }

    /// <summary>Per pixel, how much of it the shape covers, in [0, 1].</summary>
    public float[] Coverage { get; private set; } = [];

    /// <summary>Per pixel, whether it belongs to the shape's region.</summary>
    public bool[] Mask { get; private set; } = [];

    public int MaskCount { get; private set; }

    /// <summary>The coverage-weighted centroid (pixel-centre coordinates) of the mask and its surroundings.</summary>
    public (double X, double Y) Centroid { get; private set; }

    /// <summary>The coverage-weighted standard deviation along x and y.</summary>
    public (double X, double Y) Spread { get; private set; }

    /// <summary>The summed coverage of the mask and the pixels within two of it (where blur spreads the edge).</summary>
    public double Area { get; private set; }

    /// <summary>Inclusive pixel bounds of the mask.</summary>
    public (int X0, int Y0, int X1, int Y1) Bounds { get; private set; }

    public static ToyForeground Analyse(ToyRgbImage image)
    {
        var result = new ToyForeground(image);
        result.Run();
        return result;
    }

    /// <summary>Per mask pixel, where it lies between the first (0) and second (1) colour; zero where there is no second colour.</summary>
    public float[] SecondColorFraction()
    {
        var fractions = new float[Mask.Length];
        if (Color is not { } first || SecondColor is not { } second)
        {
            return fractions;
        }

        var (r1, g1, b1) = ToyPalette.Rgb(first);
        var (r2, g2, b2) = ToyPalette.Rgb(second);
        double dr = r2 - r1, dg = g2 - g1, db = b2 - b1;
        var norm = (dr * dr) + (dg * dg) + (db * db);
        var p = Image.Pixels;
        for (var i = 0; i < Mask.Length; i++)
        {
            if (Mask[i])
            {
                var t = (((p[3 * i] - r1) * dr) + ((p[(3 * i) + 1] - g1) * dg) + ((p[(3 * i) + 2] - b1) * db)) / norm;
                fractions[i] = (float)Math.Clamp(t, 0, 1);
            }
        }

        return fractions;
    }

    private void Run()
    {
        var (w, h) = (Image.Width, Image.Height);
        var p = Image.Pixels;
        var (background, bgConfidence, bgMean) = FindBackground();
        Background = background;
        BackgroundConfidence = bgConfidence;

        var candidates = ToyPalette.Colors.Where(c => c != background).ToArray();
        var count = w * h;
        var best = new int[count];
        var bestCoverage = new float[count];
        var bestResiduals = new float[count];
        var votes = new double[ToyPalette.Colors.Count];
        for (var i = 0; i < count; i++)
        {
            var bestResidual = double.MaxValue;
            for (var k = 0; k < candidates.Length; k++)
            {
                var (a, residual) = Fit(p, i, bgMean, candidates[k]);
                if (residual < bestResidual)
                {
                    bestResidual = residual;
                    best[i] = (int)candidates[k];
                    bestCoverage[i] = (float)a;
                    bestResiduals[i] = (float)residual;
                }
            }

            if (bestCoverage[i] > StrongCoverage)
            {
                votes[best[i]] += bestCoverage[i];
            }
        }

        var total = votes.Sum();
        if (total <= 0)
        {
            Coverage = new float[count];
            Mask = new bool[count];
            return;
        }

        var first = (ToyColor)Array.IndexOf(votes, votes.Max());
        Color = first;
        ColorConfidence = votes[(int)first] / total;

        // Second-colour votes come from interior pixels only (at the rim, a mix of shape and background can look like
        // a third palette colour: red and yellow make orange), and only where the other colour explains the pixel
        // clearly better than the shape colour does (noise alone can tip a pixel between nearly collinear colours).
        var secondVotes = new double[ToyPalette.Colors.Count];
        for (var i = 0; i < count; i++)
        {
            int x = i % w, y = i / w;
            if (bestCoverage[i] > StrongCoverage && x > 0 && y > 0 && x < w - 1 && y < h - 1
                && bestCoverage[i - 1] > StrongCoverage && bestCoverage[i + 1] > StrongCoverage
                && bestCoverage[i - w] > StrongCoverage && bestCoverage[i + w] > StrongCoverage
                && (best[i] == (int)first || Fit(p, i, bgMean, first).Residual - bestResiduals[i] > SecondColorMargin))
            {
                secondVotes[best[i]] += bestCoverage[i];
            }
        }

        var interiorTotal = secondVotes.Sum();
        secondVotes[(int)first] = 0;
        var secondIndex = Array.IndexOf(secondVotes, secondVotes.Max());
        SecondShare = interiorTotal <= 0 ? 0 : secondVotes[secondIndex] / interiorTotal;
        if (SecondShare >= SecondColorShare)
        {
            SecondColor = (ToyColor)secondIndex;
        }

        var coverage = new float[count];
        for (var i = 0; i < count; i++)
        {
            var a = Fit(p, i, bgMean, first).Coverage;
            if (SecondColor is { } second)
            {
                a = Math.Max(a, Fit(p, i, bgMean, second).Coverage);
            }

            coverage[i] = (float)a;
        }

        Coverage = coverage;
        Mask = LargestRegion(coverage, w, h, out var maskCount, out var bounds);
        MaskCount = maskCount;
        Bounds = bounds;
        Moments(coverage, w, h);
    }

    private (ToyColor Color, double Confidence, double[] Mean) FindBackground()
    {
        var (w, h) = (Image.Width, Image.Height);
        var p = Image.Pixels;
        var border = new List<int>();
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                if (x == 0 || y == 0 || x == w - 1 || y == h - 1)
                {
                    border.Add((y * w) + x);
                }
            }
        }

        var nearest = border.Select(i => ToyPalette.Nearest(p[3 * i], p[(3 * i) + 1], p[(3 * i) + 2])).ToList();
        var mode = nearest.GroupBy(c => c).OrderByDescending(g => g.Count()).ThenBy(g => g.Key).First().Key;
        var mean = new double[3];
        var n = 0;
        for (var j = 0; j < border.Count; j++)
        {
            if (nearest[j] == mode)
            {
                var i = border[j];
                mean[0] += p[3 * i];
                mean[1] += p[(3 * i) + 1];
                mean[2] += p[(3 * i) + 2];
                n++;
            }
        }

        for (var c = 0; c < 3; c++)
        {
            mean[c] /= n;
        }

        return (mode, (double)n / border.Count, mean);
    }

    /// <summary>Fits pixel i as (1 - a) * background + a * colour: the coverage a in [0, 1] and the distance left over.</summary>
    private static (double Coverage, double Residual) Fit(float[] p, int i, double[] background, ToyColor color)
    {
        var (cr, cg, cb) = ToyPalette.Rgb(color);
        double dr = cr - background[0], dg = cg - background[1], db = cb - background[2];
        double vr = p[3 * i] - background[0], vg = p[(3 * i) + 1] - background[1], vb = p[(3 * i) + 2] - background[2];
        var norm = (dr * dr) + (dg * dg) + (db * db);
        var a = norm < 1e-6 ? 0 : Math.Clamp(((vr * dr) + (vg * dg) + (vb * db)) / norm, 0, 1);
        double er = vr - (a * dr), eg = vg - (a * dg), eb = vb - (a * db);
        return (a, Math.Sqrt((er * er) + (eg * eg) + (eb * eb)));
    }

    private void Moments(float[] coverage, int w, int h)
    {
        const int reach = 2;
        var bounds = Bounds;
        double area = 0, sx = 0, sy = 0, sxx = 0, syy = 0;
        for (var y = Math.Max(0, bounds.Y0 - reach); y <= Math.Min(h - 1, bounds.Y1 + reach); y++)
        {
            for (var x = Math.Max(0, bounds.X0 - reach); x <= Math.Min(w - 1, bounds.X1 + reach); x++)
            {
                if (NearMask(Mask, w, h, x, y, reach))
                {
                    double c = coverage[(y * w) + x];
                    area += c;
                    sx += c * x;
                    sy += c * y;
                    sxx += c * x * x;
                    syy += c * y * y;
                }
            }
        }

        Area = area;
        var (mx, my) = (sx / area, sy / area);
        Centroid = (mx, my);
        Spread = (Math.Sqrt(Math.Max(1e-6, (sxx / area) - (mx * mx))), Math.Sqrt(Math.Max(1e-6, (syy / area) - (my * my))));
    }

    private static bool NearMask(bool[] mask, int w, int h, int x, int y, int reach)
    {
        for (var dy = -reach; dy <= reach; dy++)
        {
            for (var dx = -reach; dx <= reach; dx++)
            {
                int nx = x + dx, ny = y + dy;
                if (nx >= 0 && ny >= 0 && nx < w && ny < h && mask[(ny * w) + nx])
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool[] LargestRegion(float[] coverage, int w, int h, out int size, out (int, int, int, int) bounds)
    {
        var label = new int[coverage.Length];
        var bestLabel = 0;
        size = 0;
        var next = 0;
        var stack = new Stack<int>();
        for (var start = 0; start < coverage.Length; start++)
        {
            if (coverage[start] <= 0.5f || label[start] != 0)
            {
                continue;
            }

            next++;
            var n = 0;
            label[start] = next;
            stack.Push(start);
            while (stack.Count > 0)
            {
                var i = stack.Pop();
                n++;
                int x = i % w, y = i / w;
                for (var dy = -1; dy <= 1; dy++)
                {
                    for (var dx = -1; dx <= 1; dx++)
                    {
                        int nx = x + dx, ny = y + dy;
                        if (nx < 0 || ny < 0 || nx >= w || ny >= h)
                        {
                            continue;
                        }

                        var j = (ny * w) + nx;
                        if (label[j] == 0 && coverage[j] > 0.5f)
                        {
                            label[j] = next;
                            stack.Push(j);
                        }
                    }
                }
            }

            if (n > size)
            {
                size = n;
                bestLabel = next;
            }
        }

        var mask = new bool[coverage.Length];
        int x0 = w, y0 = h, x1 = -1, y1 = -1;
        for (var i = 0; i < mask.Length; i++)
        {
            if (bestLabel != 0 && label[i] == bestLabel)
            {
                mask[i] = true;
                int x = i % w, y = i / w;
                x0 = Math.Min(x0, x);
                y0 = Math.Min(y0, y);
                x1 = Math.Max(x1, x);
                y1 = Math.Max(y1, y);
            }
        }

        bounds = (x0, y0, x1, y1);
        return mask;
    }
}
