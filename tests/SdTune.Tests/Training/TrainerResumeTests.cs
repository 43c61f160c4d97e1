using SdTune.Checkpoints.Safetensors;
using SdTune.Training;
using SdTune.Training.Methods;
using static TorchSharp.torch;

namespace SdTune.Tests.Training;

/// <summary>6 steps straight against 3 steps, a state folder, fresh objects and 3 more: the trained weights are bit-identical.</summary>
public sealed class TrainerResumeTests
{
    [Fact]
    public void Lora_with_gradient_accumulation_and_dropout_resumes_bit_identically()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 6)
            .With(LoraMethod.NetworkDropout, 0.1)
            .With(LoraMethod.NetworkArgs, ["rank_dropout=0.1", "conv_dim=2", "conv_alpha=1"]) with
        {
            GradientAccumulationSteps = 2,
            SaveEveryNSteps = 3,
            SaveState = true,
            NoiseOffset = 0.05,
            MinSnrGamma = 5,
            LrScheduler = "cosine",
            LrWarmupSteps = "2",
            UseEma = true,
            EmaDecay = 0.9,
        };

        string straightFinal;
        string state;
        using (var model = TrainingTestKit.TinyModel())
        {
            var result = new Trainer(config, new TrainerServices { Model = model }).Run();
            Assert.Equal(6, result.Steps);
            straightFinal = result.Outputs[^1];
            state = Assert.Single(result.StateFolders, s => s.EndsWith("toy-step00000003-state", StringComparison.Ordinal));
        }

        var resumedConfig = config with { OutputDir = Path.Combine(dir.Path, "resumed"), Resume = state };
        using (var model = TrainingTestKit.TinyModel())
        {
            var result = new Trainer(resumedConfig, new TrainerServices { Model = model }).Run();
            Assert.Equal(6, result.Steps);
            Assert.Equal(3, result.LossHistory.Count);
            AssertSameTensors(straightFinal, result.Outputs[^1]);
        }
    }

    [Fact]
    public void DreamBooth_with_prior_preservation_and_text_encoder_resumes_bit_identically()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.DreamBoothConfig(dir.Path, steps: 6)
            .With(DreamBoothMethod.TrainTextEncoder, true)
            .With(DreamBoothMethod.StopTextEncoderTraining, 0.5)
            .With(DreamBoothMethod.SaveModelAs, "diffusers") with
        {
            SaveEveryNSteps = 3,
            SaveState = true,
            TextEncoderLr = 5e-5,
        };

        AssertFullModelRunResumesBitIdentically(config, Path.Combine(dir.Path, "resumed"));
    }

    [Fact]
    public void A_state_folder_holds_every_part_and_no_temporary_folders_remain()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 2) with { SaveEveryNSteps = 1, SaveState = true, UseEma = true };
        using var model = TrainingTestKit.TinyModel();
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        var state = result.StateFolders[0];
        Assert.EndsWith("toy-step00000001-state", state, StringComparison.Ordinal);
        foreach (var file in new[] { "method.safetensors", "optimizer.safetensors", "ema.safetensors", "rng.safetensors", "train_state.json", "config.resolved.toml" })
        {
            Assert.True(File.Exists(Path.Combine(state, file)), file);
        }

        Assert.Contains(result.StateFolders, s => s.EndsWith("toy-state", StringComparison.Ordinal));
        Assert.Empty(Directory.GetFileSystemEntries(config.OutputDir!, ".*"));
        var json = File.ReadAllText(Path.Combine(state, "train_state.json"));
        Assert.Contains("\"global_step\": 1", json, StringComparison.Ordinal);
    }

    /// <summary>
    /// A full-model run of 6 steps that saves its state at step 3 and trains the text encoder for steps 1-3 (UNet weights
    /// "unet.*", text encoder "te.*"): resumed from that state into <paramref name="resumedOutputDir"/>, the weights equal
    /// the straight run's bit for bit, and both parts moved.
    /// </summary>
    internal static void AssertFullModelRunResumesBitIdentically(TrainingConfig config, string resumedOutputDir)
    {
        Dictionary<string, Tensor> straight;
        string state;
        using (var model = TrainingTestKit.TinyModel())
        {
            var result = new Trainer(config, new TrainerServices { Model = model }).Run();
            straight = Trained(model);
            state = Assert.Single(result.StateFolders, s => s.EndsWith(config.OutputName + "-step00000003-state", StringComparison.Ordinal));
        }

        using (var model = TrainingTestKit.TinyModel())
        {
            var untouched = Trained(model);
            var result = new Trainer(config with { OutputDir = resumedOutputDir, Resume = state }, new TrainerServices { Model = model }).Run();
            Assert.Equal(3, result.LossHistory.Count);
            var resumed = Trained(model);
            TrainingTestKit.AssertBitIdentical(straight, resumed);

            // The run trained something: the UNet moved and the text encoder moved (it trained for steps 1-3).
            Assert.False(untouched["unet.conv_in.weight"].equal(resumed["unet.conv_in.weight"]).all().item<bool>());
            Assert.False(untouched["te.text_model.encoder.layers.0.mlp.fc1.weight"].equal(resumed["te.text_model.encoder.layers.0.mlp.fc1.weight"]).all().item<bool>());
        }
    }

    private static Dictionary<string, Tensor> Trained(SdTune.Models.StableDiffusionModel model) =>
        TrainingTestKit.Snapshot(model.Unet.state_dict().Select(kv => new KeyValuePair<string, Tensor>("unet." + kv.Key, kv.Value))
            .Concat(model.TextEncoder.state_dict().Select(kv => new KeyValuePair<string, Tensor>("te." + kv.Key, kv.Value))));

    private static void AssertSameTensors(string expectedFile, string actualFile)
    {
        using var e = SafetensorsFile.Open(expectedFile);
        using var a = SafetensorsFile.Open(actualFile);
        using var scope = NewDisposeScope();
        TrainingTestKit.AssertBitIdentical(
            e.ReadAll().ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal),
            a.ReadAll().ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal));
    }
}
