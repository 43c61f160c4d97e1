using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Training;
using SdTune.Training.Methods;
using static TorchSharp.torch;

namespace SdTune.Tests.Training;

/// <summary>Precision, SDXL conditioning, epoch saves, interruption and the gradient-checkpointing seam.</summary>
public sealed class TrainerOptionsTests
{
    [Fact]
    public void Bf16_keeps_frozen_weights_in_bf16_and_trains_the_lora_in_float32()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 2) with { MixedPrecision = MixedPrecision.BFloat16 };
        using var model = TrainingTestKit.TinyModel();
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        Assert.All(result.LossHistory, l => Assert.True(double.IsFinite(l)));
        Assert.All(model.Unet.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        Assert.All(model.Vae.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
        using var file = SdTune.Checkpoints.Safetensors.SafetensorsFile.Open(result.Outputs[^1]);
        Assert.All(file.Tensors, t => Assert.Equal(SdTune.Checkpoints.Safetensors.SafetensorsDType.F32, t.DType));
        Assert.Equal("bf16", file.Metadata["ss_mixed_precision"]);
    }

    [Fact]
    public void Fp16_trains_with_a_loss_scaler_whose_scale_goes_into_the_state()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 2) with { MixedPrecision = MixedPrecision.Float16, SaveState = true };
        using var model = TrainingTestKit.TinyModel();
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        Assert.All(result.LossHistory, l => Assert.True(double.IsFinite(l)));
        Assert.All(model.TextEncoder.parameters(), p => Assert.Equal(ScalarType.Float16, p.dtype));
        var json = File.ReadAllText(Path.Combine(result.StateFolders[^1], "train_state.json"));
        Assert.Contains("\"loss_scale\": 65536", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Sdxl_trains_with_both_text_encoders_and_size_conditioning()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 2) with { SavePrecision = "fp16" };
        using var model = TrainingTestKit.TinySdxl();
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        Assert.All(result.LossHistory, l => Assert.True(double.IsFinite(l)));
        using var fresh = TrainingTestKit.TinySdxl();
        var file = LoraFileReader.Read(result.Outputs[^1], new LoraTargets(fresh.Unet, fresh.TextEncoder, fresh.TextEncoder2));
        Assert.Empty(file.UnmatchedKeys);
        Assert.Contains(file.Network.Entries, e => e.Component == LoraComponent.TextEncoder2);
        Assert.Equal("sdxl_base_v1-0", file.Metadata["ss_base_model_version"]);
        using var raw = SdTune.Checkpoints.Safetensors.SafetensorsFile.Open(result.Outputs[^1]);
        Assert.All(raw.Tensors, t => Assert.Equal(SdTune.Checkpoints.Safetensors.SafetensorsDType.F16, t.DType));
    }

    [Fact]
    public void Epoch_saves_use_kohya_names_and_cancellation_leaves_a_resumable_state()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 6).With(LoraMethod.NetworkDim, 2) with { SaveEveryNEpochs = 1, SaveState = true };
        using var model = TrainingTestKit.TinyModel();
        using var cancel = new CancellationTokenSource();
        var services = new TrainerServices { Model = model, Progress = new TrainingProgressCallback(p => { if (p.Step == 5) { cancel.Cancel(); } }) };
        var result = new Trainer(config, services).Run(cancel.Token);
        Assert.Equal(5, result.Steps);
        Assert.Equal([Path.Combine(config.OutputDir!, "toy-000001.safetensors")], result.Outputs);
        Assert.Equal(
            [Path.Combine(config.OutputDir!, "toy-000001-state"), Path.Combine(config.OutputDir!, "toy-step00000005-state")],
            result.StateFolders);

        var resumed = new Trainer(config with { Resume = result.StateFolders[^1] }, new TrainerServices { Model = model }).Run();
        Assert.Equal(6, resumed.Steps);
        Assert.Single(resumed.LossHistory);
        Assert.DoesNotContain(resumed.Warnings, w => w.StartsWith("resume:", StringComparison.Ordinal));

        var changed = new Trainer(config with { Resume = result.StateFolders[^1], LearningRate = 1e-3, OutputDir = Path.Combine(dir.Path, "changed") }, new TrainerServices { Model = model }).Run();
        Assert.Contains(changed.Warnings, w => w.StartsWith("resume: the configuration differs", StringComparison.Ordinal));
    }

    [Fact]
    public void Gradient_checkpointing_is_passed_to_models_that_support_it_or_warned_about()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 1) with { GradientCheckpointing = true };
        using var model = TrainingTestKit.TinyModel();
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();
        var property = model.Unet.GetType().GetProperty("GradientCheckpointing");
        if (property is null)
        {
            Assert.Contains(result.Warnings, w => w.StartsWith("gradient_checkpointing:", StringComparison.Ordinal));
        }
        else
        {
            Assert.Equal(true, property.GetValue(model.Unet));
        }
    }

    [Fact]
    public void TensorBoard_scalars_are_written_under_the_logging_folder()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 2) with { LoggingDir = Path.Combine(dir.Path, "logs") };
        using var model = TrainingTestKit.TinyModel();
        new Trainer(config, new TrainerServices { Model = model }).Run();
        var events = Directory.GetFiles(config.LoggingDir!, "*tfevents*", SearchOption.AllDirectories);
        var file = Assert.Single(events);
        var bytes = File.ReadAllBytes(file);
        foreach (var tag in new[] { "loss/current", "loss/average", "lr/unet", "lr/text_encoder" })
        {
            Assert.True(IndexOf(bytes, System.Text.Encoding.UTF8.GetBytes(tag)) >= 0, tag);
        }
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= haystack.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }

        return -1;
    }

    [Fact]
    public void Resuming_a_state_of_another_method_is_refused()
    {
        using var dir = TestPaths.NewTempDir();
        var lora = TrainingTestKit.LoraConfig(dir.Path, steps: 1) with { SaveState = true };
        using var model = TrainingTestKit.TinyModel();
        var state = new Trainer(lora, new TrainerServices { Model = model }).Run().StateFolders[^1];
        using var fresh = TrainingTestKit.TinyModel();
        var dreambooth = TrainingTestKit.DreamBoothConfig(dir.Path, steps: 1) with { Resume = state };
        var error = Assert.Throws<TrainingConfigException>(() => new Trainer(dreambooth, new TrainerServices { Model = fresh }).Run());
        Assert.Equal("resume", error.Key);
        Assert.Contains("lora state", error.Message, StringComparison.Ordinal);
    }
}
