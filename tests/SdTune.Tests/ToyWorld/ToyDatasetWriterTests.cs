using SdTune.ToyWorld;
using SdTune.Training.Data;
using SkiaSharp;

namespace SdTune.Tests.ToyWorld;

public class ToyDatasetWriterTests
{
    [Fact]
    public void The_training_data_layer_loads_an_exported_world()
    {
        using var dir = TestPaths.NewTempDir();
        var generator = new ToyWorldGenerator(32, seed: 21);
        var configPath = ToyDatasetWriter.WritePretraining(dir.Path, generator, 12, repeats: 2);

        var config = DatasetConfig.Load(configPath);
        var dataset = TrainingDataset.Build(config, new ImageFileReader(), seed: 1);
        Assert.Equal(12, dataset.Images.Count);
        Assert.Equal(24, dataset.SamplesPerEpoch);
        Assert.Empty(dataset.Warnings);
        var evaluator = new ToyEvaluator(32);
        for (var i = 0; i < 12; i++)
        {
            var image = dataset.Images[i];
            var scene = generator.Scene(i);
            Assert.Equal(new PixelSize(32, 32), image.Size);
            Assert.Equal(scene.ToCaption(generator.CaptionStyle(i)), image.Caption);

            // The PNG on disk is lossless: the evaluator reads the scene back exactly.
            using var bitmap = SKBitmap.Decode(image.Path);
            Assert.True(evaluator.Read(bitmap).Matches(scene).All, $"{image.Path}: {scene}");
        }

        var batch = dataset.GetEpoch(1)[0];
        Assert.Equal(new PixelSize(32, 32), batch.Samples[0].Bucket);
    }

    [Fact]
    public void Benchmark_instances_export_with_identifier_captions()
    {
        using var dir = TestPaths.NewTempDir();
        var spec = BenchmarkSpec.Load(Path.Combine(TestPaths.RepositoryRoot, "toyworld", "benchmark.toml"));
        var configPath = ToyDatasetWriter.WriteInstances(dir.Path, spec, repeats: 10);
        Assert.True(Directory.Exists(Path.Combine(dir.Path, "10_sks star")));
        var dataset = TrainingDataset.Build(DatasetConfig.Load(configPath), new ImageFileReader(), seed: 1);
        Assert.Equal(5, dataset.Images.Count);
        Assert.All(dataset.Images, i => Assert.StartsWith("a sks star on a ", i.Caption, StringComparison.Ordinal));
        Assert.Equal(50, dataset.SamplesPerEpoch);
    }

    [Fact]
    public void Regularisation_images_join_the_dataset_as_a_reg_subset()
    {
        using var dir = TestPaths.NewTempDir();
        var spec = BenchmarkSpec.Load(Path.Combine(TestPaths.RepositoryRoot, "toyworld", "benchmark.toml"));
        var configPath = ToyDatasetWriter.WriteInstances(dir.Path, spec, batchSize: 3);
        var generator = new ToyWorldGenerator(32, seed: 4);
        var items = Enumerable.Range(0, 4).Select(i => (Image: generator.Render(generator.Scene(i)), Caption: $"a star {i}")).ToList();
        ToyDatasetWriter.AddRegularisation(configPath, "star", items);
        items.ForEach(i => i.Image.Dispose());

        var config = DatasetConfig.Load(configPath);
        Assert.Equal(3, config.Datasets[0].BatchSize);
        var dataset = TrainingDataset.Build(config, new ImageFileReader(), seed: 1);
        Assert.Equal(5, dataset.Images.Count(i => !i.IsReg));
        Assert.Equal(4, dataset.Images.Count(i => i.IsReg));
        Assert.Contains(dataset.Images, i => i.IsReg && i.Caption == "a star 2");
        Assert.Throws<IOException>(() => ToyDatasetWriter.AddRegularisation(configPath, "star", [(new SKBitmap(32, 32), "x")]));
    }

    [Fact]
    public void Existing_data_is_never_overwritten()
    {
        using var dir = TestPaths.NewTempDir();
        var generator = new ToyWorldGenerator();
        ToyDatasetWriter.WritePretraining(dir.Path, generator, 2);
        var before = File.ReadAllBytes(Path.Combine(dir.Path, "1_toyworld", "00000.png"));
        var e = Assert.Throws<IOException>(() => ToyDatasetWriter.WritePretraining(dir.Path, generator, 3));
        Assert.Contains("not empty", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(dir.Path, "1_toyworld", "00000.png")));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dir.Path, "1_toyworld"), "*.png").Length);
    }
}
