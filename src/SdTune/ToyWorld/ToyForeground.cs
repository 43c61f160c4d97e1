namespace SdTune.ToyWorld;

/// <summary>
/// The colour stage of the evaluator. The background is the palette colour most border pixels are nearest to. The
/// other pixels are explained by colour models: one palette colour mixed with the measured background
/// (antialiasing and blur mix linearly), or a pair of colours mixed with the background and with each other. The
/// shape colour is the single colour that explains the most pixels; a pair replaces it when it explains clearly more
/// and each of its colours is the nearer one for a share of the shape (which colour of the pair comes first is left to
/// the pattern match). A pair whose pixels nearly all lean to one colour is read as that colour, shaded. The foreground mask is the largest
/// 8-connected region whose coverage exceeds one half.
/// </summary>
internal sealed class ToyForeground
{
    /// <summary>The share of the shape a second colour must explain to count as a pattern.</summary>
    private const double SecondColorShare = 0.1;

    /// <summary>A pixel is explained by a colour model when it lies within this RGB distance of one of its mixes.</summary>
    private const double Explained = 30;

    /// <summary>The fewest extra pixels a second colour must explain.</summary>
    private const int MinSecondPixels = 3;

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

    /// <summary>The share of the shape's pixels that the best pair of colours explains beyond the best single colour.</summary>
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

        for (var i = 0; i < Mask.Length; i++)
        {
            if (Mask[i])
            {
                fractions[i] = (float)SegmentFit(Image.Pixels, i, first, second).T;
            }
        }

        return fractions;
    }

    /// <summary>Swaps the first and second colour (the pattern decides which is which).</summary>
    public void SwapColors()
    {
        if (SecondColor is { } second && Color is { } first)
        {
            (Color, SecondColor) = (second, first);
        }
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
        var palette = ToyPalette.Colors.Count;
        var coverageOf = new float[palette][];
        var residualOf = new float[palette][];
        foreach (var c in candidates)
        {
            coverageOf[(int)c] = new float[count];
            residualOf[(int)c] = new float[count];
        }

        var strong = new List<int>();
        for (var i = 0; i < count; i++)
        {
            var bestResidual = double.MaxValue;
            var bestCoverage = 0.0;
            foreach (var c in candidates)
            {
                var (a, residual) = Fit(p, i, bgMean, c);
                coverageOf[(int)c][i] = (float)a;
                residualOf[(int)c][i] = (float)residual;
                if (residual < bestResidual)
                {
                    bestResidual = residual;
                    bestCoverage = a;
                }
            }

            if (bestCoverage > StrongCoverage)
            {
                strong.Add(i);
            }
        }

        if (strong.Count == 0)
        {
            Coverage = new float[count];
            Mask = new bool[count];
            return;
        }

        // One colour: the one that explains (as a mix with the background) the most strong pixels.
        var single = candidates
            .Select(c => (Color: c, Explained: strong.Count(i => residualOf[(int)c][i] < Explained), Weight: strong.Sum(i => coverageOf[(int)c][i])))
            .OrderByDescending(x => x.Explained).ThenByDescending(x => x.Weight).ThenBy(x => x.Color)
            .First();

        // Two colours: the pair whose mixes with the background and with each other explain the most strong pixels.
        var pair = (First: single.Color, Second: single.Color, Explained: -1, Residual: double.MaxValue);
        for (var x = 0; x < candidates.Length; x++)
        {
            for (var y = x + 1; y < candidates.Length; y++)
            {
                var (cx, cy) = (candidates[x], candidates[y]);
                var explained = 0;
                double total = 0;
                foreach (var i in strong)
                {
                    var r = Math.Min(Math.Min(residualOf[(int)cx][i], residualOf[(int)cy][i]), SegmentFit(p, i, cx, cy).Residual);
                    explained += r < Explained ? 1 : 0;
                    total += Math.Min(r, Explained);
                }

                if (explained > pair.Explained || (explained == pair.Explained && total < pair.Residual))
                {
                    pair = (cx, cy, explained, total);
                }
            }
        }

        var gain = pair.Explained - single.Explained;
        SecondShare = (double)gain / strong.Count;
        var needed = Math.Max(MinSecondPixels, SecondColorShare * strong.Count);
        var (nearerFirst, nearerSecond) = (0, 0);
        if (gain >= needed)
        {
            nearerSecond = strong.Count(i => SegmentFit(p, i, pair.First, pair.Second).T >= 0.5);
            nearerFirst = strong.Count - nearerSecond;
        }

        if (gain < needed)
        {
            Color = single.Color;
            ColorConfidence = (double)single.Explained / strong.Count;
        }
        else if (Math.Min(nearerFirst, nearerSecond) >= needed)
        {
            Color = pair.First;
            SecondColor = pair.Second;
            ColorConfidence = (double)pair.Explained / strong.Count;
        }
        else
        {
            // The pair explains the pixels, but nearly all of them lie nearer one of its colours: that colour, shaded
            // towards the other. A tint is not a second colour, and its shading is not a pattern.
            Color = nearerFirst >= nearerSecond ? pair.First : pair.Second;
            ColorConfidence = (double)Math.Max(nearerFirst, nearerSecond) / strong.Count;
        }

        var first = Color.Value;
        var coverage = new float[count];
        for (var i = 0; i < count; i++)
        {
            double a = coverageOf[(int)first][i];
            if (SecondColor is { } second)
            {
                a = Math.Max(a, coverageOf[(int)second][i]);
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

    /// <summary>Fits pixel i as a mix of two palette colours: the fraction t of <paramref name="to"/> and the distance left over.</summary>
    internal static (double T, double Residual) SegmentFit(float[] p, int i, ToyColor from, ToyColor to)
    {
        var (ar, ag, ab) = ToyPalette.Rgb(from);
        var (br, bg, bb) = ToyPalette.Rgb(to);
        double dr = br - ar, dg = bg - ag, db = bb - ab;
        double vr = p[3 * i] - ar, vg = p[(3 * i) + 1] - ag, vb = p[(3 * i) + 2] - ab;
        var t = Math.Clamp(((vr * dr) + (vg * dg) + (vb * db)) / ((dr * dr) + (dg * dg) + (db * db)), 0, 1);
        double er = vr - (t * dr), eg = vg - (t * dg), eb = vb - (t * db);
        return (t, Math.Sqrt((er * er) + (eg * eg) + (eb * eb)));
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
