using SdTune.Training;
using SdTune.Training.Methods;

namespace SdTune.Tests.Training;

public class TrainerCachingTests
{
    /// <summary>
    /// cache_latents replaces the VAE pass by cached distributions and the same per-step draw, so the training
    /// trajectory matches an uncached run (up to float rounding of encoding images one at a time), and a disk
    /// cache is reused by a second run.
    /// </summary>
    [Fact]
    public void Cached_latents_train_like_uncached_and_the_disk_cache_is_reused()
    {
        using var dir = TestPaths.NewTempDir();
        var baseConfig = TrainingTestKit.LoraConfig(dir.Path, steps: 4) with { LearningRate = 1e-2 };

        IReadOnlyList<double> Train(string name, bool cache, bool toDisk)
        {
            var config = baseConfig with { OutputDir = Path.Combine(dir.Path, name), CacheLatents = cache, CacheLatentsToDisk = toDisk };
            using var model = TrainingTestKit.TinyModel();
            return new Trainer(config, new TrainerServices { Model = model }).Run().LossHistory;
        }

        var plain = Train("plain", cache: false, toDisk: false);
        var cached = Train("cached", cache: true, toDisk: false);
        Assert.Equal(plain.Count, cached.Count);
        for (var i = 0; i < plain.Count; i++)
        {
            Assert.Equal(plain[i], cached[i], 4);
        }

        var first = Train("disk", cache: true, toDisk: true);
        var cacheFolder = Path.Combine(dir.Path, "disk", "latent-cache");
        var files = Directory.GetFiles(cacheFolder);
        Assert.NotEmpty(files);
        var stamps = files.ToDictionary(f => f, File.GetLastWriteTimeUtc);
        var second = Train("disk", cache: true, toDisk: true);
        Assert.Equal(first, second);
        Assert.All(stamps, s => Assert.Equal(s.Value, File.GetLastWriteTimeUtc(s.Key)));
    }

    [Fact]
    public void Gradient_checkpointing_trains_the_same_network()
    {
        using var dir = TestPaths.NewTempDir();
        IReadOnlyList<double> Train(string name, bool checkpointing)
        {
            var config = TrainingTestKit.LoraConfig(dir.Path, steps: 3) with { OutputDir = Path.Combine(dir.Path, name), GradientCheckpointing = checkpointing };
            using var model = TrainingTestKit.TinyModel();
            var result = new Trainer(config, new TrainerServices { Model = model }).Run();
            Assert.DoesNotContain(result.Warnings, w => w.Contains("checkpointing", StringComparison.Ordinal));
            return result.LossHistory;
        }

        var plain = Train("plain", false);
        var checkpointed = Train("checkpointed", true);
        for (var i = 0; i < plain.Count; i++)
        {
            Assert.Equal(plain[i], checkpointed[i], 5);
        }
    }

    [Fact]
    public void Cached_text_encoder_outputs_train_exactly_like_encoding_every_step()
    {
        using var dir = TestPaths.NewTempDir();
        IReadOnlyList<double> Train(string name, bool cache)
        {
            var config = TrainingTestKit.LoraConfig(dir.Path, steps: 3).With(LoraMethod.NetworkTrainUnetOnly, true) with
            {
                OutputDir = Path.Combine(dir.Path, name),
                CacheTextEncoderOutputs = cache,
            };
            using var model = TrainingTestKit.TinyModel();
            return new Trainer(config, new TrainerServices { Model = model }).Run().LossHistory;
        }

        Assert.Equal(Train("plain", false), Train("cached", true));
    }
}
