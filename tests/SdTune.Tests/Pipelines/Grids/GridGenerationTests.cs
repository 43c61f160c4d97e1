using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Imaging;
using SdTune.Models;
using SdTune.Pipelines;
using SdTune.Pipelines.Grids;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Pipelines.Grids;

/// <summary>Grids generated on the tiny SD 1.x model: each cell is the single generation with its settings.</summary>
public sealed class GridGenerationTests : IDisposable
{
    private static readonly GenerationRequest Base = new() { Prompt = "a red circle", Steps = 2, Width = 32, Height = 32, Seed = 3, Sampler = "Euler" };

    private readonly StableDiffusionModel sd1 = PipelineModels.Sd1();

    public void Dispose() => sd1.Dispose();

    private static byte[] Pixels(SKBitmap bitmap) => bitmap.GetPixelSpan().ToArray();

    [Fact]
    public void A_seed_by_cfg_grid_holds_the_single_generations_of_its_cells()
    {
        var plan = XyzPlan.Create(Base, new XyzAxisText("--x", "seed", "1, 2"), new XyzAxisText("--y", "cfg", "1, 7"));
        var opened = new List<string?>();
        using var result = GridRunner.Run(plan, checkpoint =>
        {
            opened.Add(checkpoint);
            return new GridModel(new StableDiffusionPipeline(sd1));
        });
        Assert.Equal([null], opened);
        Assert.Equal(4, result.Images.Count);

        using var pipeline = new StableDiffusionPipeline(sd1);
        foreach (var (seed, cfg, index) in new[] { (1L, 1.0, 0), (2L, 1.0, 1), (1L, 7.0, 2), (2L, 7.0, 3) })
        {
            using var single = pipeline.Generate(Base with { Seed = seed, CfgScale = cfg });
            Assert.Equal(Pixels(single.Images[0].Image), Pixels(result.Images[index].Image));
            Assert.Equal(single.Images[0].Infotext.ToText(), result.Images[index].Infotext.ToText());
        }

        // The composed grid shows every cell's pixels unchanged, with room for the labels.
        using var grid = ComparisonGrid.Create([.. result.Images.Select(i => i.Image)], plan.Columns, plan.Rows, plan.ColumnLabels, plan.RowLabels, plan.PanelLabels);
        Assert.True(grid.Width > 64 && grid.Height > 64);
        foreach (var image in result.Images)
        {
            Assert.True(Contains(grid, image.Image), "a cell's picture is not in the grid");
        }
    }

    [Fact]
    public void Each_checkpoint_is_opened_once_and_cells_keep_their_places()
    {
        using var dir = TestPaths.NewTempDir();
        Directory.CreateDirectory(dir.File("a"));
        Directory.CreateDirectory(dir.File("b"));
        using var other = PipelineModels.Sd1(seed: 99);
        var plan = XyzPlan.Create(Base, new XyzAxisText("--x", "checkpoint", $"{dir.File("a")}, {dir.File("b")}"), new XyzAxisText("--y", "seed", "5-7"));
        var opened = new List<string?>();
        using var result = GridRunner.Run(plan, checkpoint =>
        {
            opened.Add(checkpoint);
            return new GridModel(new StableDiffusionPipeline(checkpoint == dir.File("a") ? sd1 : other));
        });
        Assert.Equal([dir.File("a"), dir.File("b")], opened);

        using var pipeline = new StableDiffusionPipeline(other);
        using var single = pipeline.Generate(Base with { Seed = 6 });
        Assert.Equal(Pixels(single.Images[0].Image), Pixels(result.Images[3].Image));
    }

    [Fact]
    public void Lora_file_and_weight_cells_equal_single_generations_with_the_file_read_once_per_run()
    {
        using var dir = TestPaths.NewTempDir();
        using (var network = LoraNetwork.Create(new LoraTargets(sd1.Unet, sd1.TextEncoder), new LoraNetworkOptions { Dim = 2, Alpha = 2 }))
        {
            using (no_grad())
            {
                var generator = new Generator(5);
                foreach (var (_, p) in network.named_parameters())
                {
                    p.copy_(torch.randn(p.shape, generator: generator) * 0.5);
                }
            }

            KohyaLoraFormat.Save(dir.File("style.safetensors"), network);
        }

        var plan = XyzPlan.Create(Base, new XyzAxisText("--x", "lora-weight", "0.5, 1"), new XyzAxisText("--y", "lora", "none, style"), loraFolder: dir.Path);
        using var result = GridRunner.Run(plan, _ => new GridModel(new StableDiffusionPipeline(sd1, new PipelineOptions { LoraFolder = dir.Path })));
        using var pipeline = new StableDiffusionPipeline(sd1);
        using var plain = pipeline.Generate(Base);
        using var half = pipeline.Generate(Base with { Loras = [(dir.File("style.safetensors"), 0.5)] });
        using var full = pipeline.Generate(Base with { Loras = [(dir.File("style.safetensors"), 1.0)] });
        Assert.Equal(Pixels(plain.Images[0].Image), Pixels(result.Images[0].Image));
        Assert.Equal(Pixels(plain.Images[0].Image), Pixels(result.Images[1].Image));
        Assert.Equal(Pixels(half.Images[0].Image), Pixels(result.Images[2].Image));
        Assert.Equal(Pixels(full.Images[0].Image), Pixels(result.Images[3].Image));
        Assert.NotEqual(Pixels(half.Images[0].Image), Pixels(full.Images[0].Image));

        // A held file is taken off after each request and applied again with the next one's weight.
        using (pipeline.HoldLoraFiles())
        {
            using var again = pipeline.Generate(Base with { Loras = [(dir.File("style.safetensors"), 1.0)] });
            using var againHalf = pipeline.Generate(Base with { Loras = [(dir.File("style.safetensors"), 0.5)] });
            using var twice = pipeline.Generate(Base with { Loras = [(dir.File("style.safetensors"), 0.5), (dir.File("style.safetensors"), 0.5)] });
            using var plainAgain = pipeline.Generate(Base);
            Assert.Equal(Pixels(full.Images[0].Image), Pixels(again.Images[0].Image));
            Assert.Equal(Pixels(half.Images[0].Image), Pixels(againHalf.Images[0].Image));
            Assert.Equal(Pixels(plain.Images[0].Image), Pixels(plainAgain.Images[0].Image));
            Assert.NotEqual(Pixels(half.Images[0].Image), Pixels(twice.Images[0].Image));
        }
    }

    [Fact]
    public void Z_panels_sit_side_by_side_with_their_labels_above()
    {
        var cells = Enumerable.Range(0, 8).Select(i => Solid(new SKColor((byte)(i * 30), 0, 0))).ToList();
        try
        {
            using var grid = ComparisonGrid.Create(cells, 2, 2, ["a", "b"], ["c", "d"], ["panel 1", "panel 2"]);
            using var panel = ComparisonGrid.Create(cells.Take(4).ToList(), 2, 2, ["a", "b"], ["c", "d"], []);
            Assert.True(grid.Width > 2 * panel.Width && grid.Height > panel.Height);
            Assert.All(cells, c => Assert.True(Contains(grid, c)));
            // Without labels: the pictures edge to edge, the panels one font size (11 pixels here) apart.
            using var plain = ComparisonGrid.Create(cells.Take(4).ToList(), 4, 1, [], [], []);
            Assert.Equal((128, 32), (plain.Width, plain.Height));
            using var plainPanels = ComparisonGrid.Create(cells, 4, 1, [], [], []);
            Assert.Equal((128 + 11 + 128, 32), (plainPanels.Width, plainPanels.Height));
            Assert.Throws<ArgumentException>(() => ComparisonGrid.Create(cells, 3, 1, [], [], []));
        }
        finally
        {
            cells.ForEach(c => c.Dispose());
        }
    }

    private static SKBitmap Solid(SKColor color)
    {
        var bitmap = new SKBitmap(new SKImageInfo(32, 32, SKColorType.Rgba8888, SKAlphaType.Opaque));
        bitmap.Erase(color);
        return bitmap;
    }

    /// <summary>Whether <paramref name="part"/> appears pixel for pixel somewhere in <paramref name="whole"/>.</summary>
    private static bool Contains(SKBitmap whole, SKBitmap part)
    {
        for (var y = 0; y <= whole.Height - part.Height; y++)
        {
            for (var x = 0; x <= whole.Width - part.Width; x++)
            {
                if (Matches(whole, part, x, y))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static bool Matches(SKBitmap whole, SKBitmap part, int x0, int y0)
    {
        for (var y = 0; y < part.Height; y++)
        {
            for (var x = 0; x < part.Width; x++)
            {
                if (whole.GetPixel(x0 + x, y0 + y) != part.GetPixel(x, y))
                {
                    return false;
                }
            }
        }

        return true;
    }
}
