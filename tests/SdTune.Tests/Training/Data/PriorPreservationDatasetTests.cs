using SdTune.Training.Data;

namespace SdTune.Tests.Training.Data;

public class PriorPreservationDatasetTests
{
    private static readonly FakeSizeReader Reader = new(path => Path.GetFileName(path).StartsWith('w') ? new PixelSize(600, 400) : new PixelSize(512, 512));

    private static void Touch(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [0]);
    }

    [Fact]
    public void Batches_hold_instance_examples_then_their_class_examples()
    {
        using var dir = TestPaths.NewTempDir();
        for (var i = 0; i < 3; i++)
        {
            Touch(dir.File($"inst/i{i}.png"));
        }

        for (var i = 0; i < 5; i++)
        {
            Touch(dir.File($"class/c{i}.jpg"));
        }

        var options = new PriorPreservationOptions
        {
            InstanceDataDirectory = dir.File("inst"),
            InstancePrompt = "a photo of sks dog",
            ClassDataDirectory = dir.File("class"),
            ClassPrompt = "a photo of dog",
            WithPriorPreservation = true,
            NumClassImages = 8,
            PriorLossWeight = 0.5,
            BatchSize = 2,
            Resolution = 256,
            CenterCrop = true,
        };
        var dataset = PriorPreservationDataset.Build(options, Reader, seed: 5);
        Assert.Equal(3, dataset.MissingClassImages);
        Assert.Equal(5, dataset.Length); // max(5 class, 3 instance)
        Assert.Equal(3, dataset.BatchesPerEpoch);

        var batches = dataset.GetEpoch(1);
        Assert.Equal([4, 4, 2], batches.Select(b => b.Samples.Count));
        var itemsSeen = new List<int>();
        foreach (var batch in batches)
        {
            var n = batch.Samples.Count / 2;
            var instances = batch.Samples.Take(n).ToList();
            var classes = batch.Samples.Skip(n).ToList();
            Assert.All(instances, s => Assert.Equal(("a photo of sks dog", false, 1.0), (s.Caption, s.IsReg, s.LossWeight)));
            Assert.All(classes, s => Assert.Equal(("a photo of dog", true, 0.5), (s.Caption, s.IsReg, s.LossWeight)));

            // Item k pairs instance k % 3 with class k % 5, in the same position of each half.
            for (var p = 0; p < n; p++)
            {
                var item = int.Parse(Path.GetFileNameWithoutExtension(classes[p].ImagePath)[1..], System.Globalization.CultureInfo.InvariantCulture);
                Assert.Equal($"i{item % 3}.png", Path.GetFileName(instances[p].ImagePath));
                itemsSeen.Add(item);
            }
        }

        Assert.Equal([0, 1, 2, 3, 4], itemsSeen.Order());
        Assert.All(batches.SelectMany(b => b.Samples), s => Assert.Equal(new PixelRect(0, 0, 256, 256), s.Crop));
    }

    [Fact]
    public void Shorter_side_goes_to_the_resolution_and_crops_are_centred_or_random()
    {
        using var dir = TestPaths.NewTempDir();
        Touch(dir.File("inst/wide.png"));
        var options = new PriorPreservationOptions { InstanceDataDirectory = dir.File("inst"), InstancePrompt = "sks", Resolution = 256, CenterCrop = true };
        var sample = PriorPreservationDataset.Build(options, Reader, 0).GetEpoch(1).Single().Samples.Single();

        // 600x400 -> 384x256; centre crop left round(128/2) = 64.
        Assert.Equal(new PixelSize(384, 256), sample.ResizedSize);
        Assert.Equal(new PixelRect(64, 0, 256, 256), sample.Crop);

        var random = PriorPreservationDataset.Build(options with { CenterCrop = false }, Reader, 0);
        var lefts = Enumerable.Range(1, 20).Select(e => random.GetEpoch(e).Single().Samples.Single().Crop.Left).ToList();
        Assert.All(lefts, l => Assert.InRange(l, 0, 128));
        Assert.True(lefts.Distinct().Count() > 1);
    }

    [Fact]
    public void Prior_preservation_needs_a_class_folder_and_prompt()
    {
        using var dir = TestPaths.NewTempDir();
        Touch(dir.File("inst/a.png"));
        var options = new PriorPreservationOptions { InstanceDataDirectory = dir.File("inst"), InstancePrompt = "sks", WithPriorPreservation = true };
        Assert.Contains("class_data_dir", Assert.Throws<DatasetConfigException>(() => PriorPreservationDataset.Build(options, Reader, 0)).Message, StringComparison.Ordinal);
        Assert.Contains("class_prompt", Assert.Throws<DatasetConfigException>(() => PriorPreservationDataset.Build(options with { ClassDataDirectory = dir.File("c") }, Reader, 0)).Message, StringComparison.Ordinal);
    }
}
