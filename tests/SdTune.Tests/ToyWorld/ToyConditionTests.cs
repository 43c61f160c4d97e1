using SdTune.ToyWorld;
using SdTune.Training.Data;
using SkiaSharp;

namespace SdTune.Tests.ToyWorld;

/// <summary>Condition images: drawn with the picture's geometry, and written and paired in the dataset convention.</summary>
public class ToyConditionTests
{
    [Fact]
    public void The_mask_covers_exactly_the_pixels_the_picture_draws_the_shape_on()
    {
        var generator = new ToyWorldGenerator(32, seed: 3);
        for (var i = 0; i < 24; i++)
        {
            var scene = generator.Scene(i);
            using var picture = generator.Render(scene);
            using var mask = generator.RenderCondition(scene);
            var (inside, outside) = (0, 0);
            for (var y = 0; y < 32; y++)
            {
                for (var x = 0; x < 32; x++)
                {
                    var m = mask.GetPixel(x, y);
                    Assert.True(m.Red == m.Green && m.Green == m.Blue, "the mask is grey");

                    // Pixels the mask covers fully show the shape's colour, pixels it leaves black the background; only
                    // antialiased edge pixels lie between.
                    if (m.Red == 255)
                    {
                        Assert.Equal(ToyPalette.ToSkia(scene.Color), picture.GetPixel(x, y));
                        inside++;
                    }
                    else if (m.Red == 0)
                    {
                        Assert.Equal(ToyPalette.ToSkia(scene.Background), picture.GetPixel(x, y));
                        outside++;
                    }
                }
            }

            Assert.True(inside >= 4 && outside >= 32 * 16, $"scene {i} ({scene}): {inside} pixels inside, {outside} outside");
        }
    }

    [Fact]
    public void The_edge_map_is_the_outline_of_the_mask_and_both_are_white_on_black()
    {
        var generator = new ToyWorldGenerator(64);
        var scene = new ToyScene(ToyShape.Square, ToyColor.Red, ToyColor.Blue, ToySize.Large, ToyPosition.Center);
        using var mask = generator.RenderCondition(scene, ToyConditionMap.Mask);
        using var edges = generator.RenderCondition(scene, ToyConditionMap.Edges);

        Assert.Equal(SKColors.Black, mask.GetPixel(2, 2));
        Assert.Equal(SKColors.White, mask.GetPixel(32, 32));
        // The large square spans 16 to 48: its outline is white there, its inside black.
        Assert.Equal(SKColors.Black, edges.GetPixel(32, 32));
        Assert.Equal(SKColors.Black, edges.GetPixel(2, 2));
        Assert.True(edges.GetPixel(16, 32).Red > 128, "the left edge is drawn");
        Assert.True(edges.GetPixel(48, 32).Red > 128 || edges.GetPixel(47, 32).Red > 128, "the right edge is drawn");
        Assert.Throws<ArgumentOutOfRangeException>(() => generator.RenderCondition(scene, (ToyConditionMap)7));
    }

    [Fact]
    public void A_control_dataset_pairs_every_picture_with_its_condition_image_through_the_dataset_config()
    {
        using var dir = TestPaths.NewTempDir();
        var generator = new ToyWorldGenerator(32, seed: 8);
        var items = Enumerable.Range(0, 6).Select(i => (generator.Scene(i), generator.Scene(i).ToCaption())).ToList();
        var configPath = ToyDatasetWriter.WriteWithConditions(dir.Path, generator, "toyworld", items, ToyConditionMap.Mask, batchSize: 2);

        var config = DatasetConfig.Load(configPath) with { RequireConditioning = true };
        var dataset = TrainingDataset.Build(config, new ImageFileReader(), seed: 1);
        Assert.Equal(6, dataset.Images.Count);
        foreach (var (image, i) in dataset.Images.Select((image, i) => (image, i)))
        {
            Assert.Equal(items[i].Item2, image.Caption);
            Assert.Equal(Path.Combine(Path.GetDirectoryName(image.Path)!, "conditioning", Path.GetFileName(image.Path)), image.ConditioningPath);
            using var onDisk = SKBitmap.Decode(image.ConditioningPath);
            using var drawn = generator.RenderCondition(items[i].Item1);
            Assert.Equal(drawn.GetPixelSpan().ToArray(), onDisk.Copy(SKColorType.Rgba8888).GetPixelSpan().ToArray());
        }

        // The folder convention reads the same pairs without the TOML.
        var warnings = new List<string>();
        var folders = DatasetConfig.FromFolders(dir.Path, null, new DatasetOptions { Resolution = new PixelSize(32, 32) }, new SubsetOptions { CaptionExtension = ".txt" }, warnings, withConditioning: true);
        Assert.Equal(Path.Combine(dir.Path, "1_toyworld", "conditioning"), Assert.Single(folders.Datasets[0].Subsets).ConditioningDirectory);
    }
}
