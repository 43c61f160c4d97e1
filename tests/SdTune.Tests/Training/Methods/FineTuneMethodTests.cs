using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Tests.Checkpoints.Formats;
using SdTune.Tests.Cli;
using SdTune.Training;
using SdTune.Training.Methods;

namespace SdTune.Tests.Training.Methods;

/// <summary>The plain fine-tune: trains on captions, saves models that load, resumes bit for bit, refuses DreamBooth's layout.</summary>
public sealed class FineTuneMethodTests
{
    [Fact]
    public void Fine_tuning_captioned_images_lowers_the_loss()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path, steps: 8) with { LearningRate = 2e-3, TrainBatchSize = 2 };
        TrainingTestKit.AssertTrainingLowersTheLoss(config);
    }

    [Fact]
    public void Both_output_forms_load_back_as_models_with_the_trained_weights()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path, steps: 2).With(FineTuneMethod.SaveModelAs, "diffusers,safetensors") with { LearningRate = 1e-3 };
        using var model = TrainingTestKit.TinyModel();
        using var untouched = TrainingTestKit.TinyModel();
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        Assert.Equal([Path.Combine(config.OutputDir!, "ft"), Path.Combine(config.OutputDir!, "ft.safetensors")], result.Outputs);
        foreach (var output in result.Outputs)
        {
            using var loaded = StableDiffusionModels.Load(output);
            TinyModels.AssertSameWeights(model, loaded);
        }

        // Both the UNet and the text encoder were trained.
        Assert.False(untouched.Unet.state_dict()["conv_in.weight"].equal(model.Unet.state_dict()["conv_in.weight"]).all().item<bool>());
        Assert.False(untouched.TextEncoder.state_dict()["text_model.encoder.layers.0.mlp.fc1.weight"]
            .equal(model.TextEncoder.state_dict()["text_model.encoder.layers.0.mlp.fc1.weight"]).all().item<bool>());
    }

    [Fact]
    public void Fine_tuning_with_the_text_encoder_resumes_bit_identically()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path, steps: 6).With(FineTuneMethod.StopTextEncoderTraining, 0.5) with
        {
            SaveEveryNSteps = 3,
            SaveState = true,
            TextEncoderLr = 5e-5,
            NoiseOffset = 0.1,
            MinSnrGamma = 5,
            LrScheduler = "cosine",
            LrWarmupSteps = "2",
        };

        TrainerResumeTests.AssertFullModelRunResumesBitIdentically(config, Path.Combine(dir.Path, "resumed"));
    }

    [Fact]
    public void DreamBooth_instance_layout_and_regularisation_images_are_refused_naming_the_key()
    {
        using var dir = TestPaths.NewTempDir();
        var dreambooth = TrainingTestKit.DreamBoothConfig(dir.Path) with { Method = "finetune", WithPriorPreservation = false, ClassDataDir = null, ClassPrompt = null };
        var instance = Assert.Throws<TrainingConfigException>(dreambooth.Validate);
        Assert.Equal("instance_data_dir", instance.Key);
        Assert.Contains("method = \"dreambooth\"", instance.Message, StringComparison.Ordinal);

        var withReg = Config(dir.Path, steps: 1) with { RegDataDir = Path.GetDirectoryName(TrainingTestKit.Images(Path.Combine(dir.Path, "reg", "1_toy"), 1, "a toy"))! };
        Assert.Equal("reg_data_dir", Assert.Throws<TrainingConfigException>(withReg.Validate).Key);

        var prior = Config(dir.Path, steps: 1) with { WithPriorPreservation = true };
        Assert.Equal("with_prior_preservation", Assert.Throws<TrainingConfigException>(prior.Validate).Key);
    }

    [Fact]
    public void Dreambooth_only_keys_are_reported_as_not_used()
    {
        using var dir = TestPaths.NewTempDir();
        var config = Config(dir.Path, steps: 1) with { PriorLossWeight = 0.5, NumClassImages = 10 };
        var toml = ResolvedTomlOf(config);
        Assert.Contains("# prior_loss_weight = 0.5  (there is no reg_data_dir)", toml, StringComparison.Ordinal);
        Assert.Contains("# num_class_images = 10  (needs with_prior_preservation)", toml, StringComparison.Ordinal);
        Assert.Contains("train_text_encoder = true", toml, StringComparison.Ordinal);
        Assert.DoesNotContain("# train_text_encoder", toml, StringComparison.Ordinal);
    }

    [Fact]
    public void Train_finetune_help_lists_its_flags()
    {
        var (code, output, error) = InspectCommandTests.Run("train", "finetune", "--help");
        Assert.True(code == 0, error);
        Assert.Contains("--train-text-encoder", output, StringComparison.Ordinal);
        Assert.Contains("--stop-text-encoder-training", output, StringComparison.Ordinal);
        Assert.Contains("--save-model-as", output, StringComparison.Ordinal);
        Assert.DoesNotContain("--network-dim", output, StringComparison.Ordinal);
    }

    /// <summary>A fine-tune of UNet and text encoder on train_data_dir/2_toy: 4 captioned images, batch 2.</summary>
    private static TrainingConfig Config(string root, int steps) => new TrainingConfig
    {
        Method = "finetune",
        PretrainedModel = "tiny-model",
        OutputDir = Path.Combine(root, "out"),
        OutputName = "ft",
        TrainDataDir = Path.GetDirectoryName(TrainingTestKit.Images(Path.Combine(root, "train", "2_toy"), 4, "a toy"))!,
        Resolution = "32",
        TrainBatchSize = 2,
        LearningRate = 1e-3,
        MaxTrainSteps = steps,
        Seed = 1234,
    }.With(FineTuneMethod.TrainTextEncoder, true);

    private static string ResolvedTomlOf(TrainingConfig config)
    {
        using var model = TrainingTestKit.TinyModel();
        return config.Resolve(model).ToToml();
    }
}
