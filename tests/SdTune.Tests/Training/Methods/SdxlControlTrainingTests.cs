using SdTune.Checkpoints.Control;
using SdTune.Models.Control;
using SdTune.Training;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Methods;

/// <summary>ControlNet and T2I-Adapter training on the tiny SDXL model: the added text/time conditioning and the XL adapter layout.</summary>
public sealed class SdxlControlTrainingTests
{
    [Fact]
    public void A_controlnet_trains_on_sdxl_with_the_unet_s_added_conditioning_and_leaves_the_base_model_unchanged()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinySdxl();
        var result = TrainingTestKit.RunKeepingBase(ControlTrainingKit.ControlNetConfig(dir.Path, steps: 2), model, withVae: true);

        Assert.All(result.LossHistory, loss => Assert.True(double.IsFinite(loss) && loss > 0));
        using var trained = ControlNetFiles.Load(result.Outputs[^1]);
        Assert.Equal("text_time", trained.Config.Encoder.AdditionEmbedType);
        Assert.Equal(model.Unet.Config.ProjectionClassEmbeddingsInputDim, trained.Config.Encoder.ProjectionClassEmbeddingsInputDim);
        trained.EnsureFits(model.Unet.Config, "trained");

        // Trained: its weights left the copy of the UNet's encoder (zero convolutions included).
        using var copied = ControlNetModel.FromUnet(model.Unet, trained.Config.ConditioningEmbeddingOutChannels);
        var state = copied.state_dict();
        Assert.Contains(trained.state_dict(), kv => !kv.Value.equal(state[kv.Key]).all().item<bool>());
        Assert.Contains(trained.named_parameters(), p => p.name.StartsWith("add_embedding.", StringComparison.Ordinal));
    }

    [Fact]
    public void A_t2i_adapter_trains_on_sdxl_in_the_xl_layout_and_its_features_fit_the_unet()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinySdxl(threeBlocks: true);   // full_adapter_xl feeds SDXL's three down blocks
        var result = TrainingTestKit.RunKeepingBase(ControlTrainingKit.ControlNetConfig(dir.Path, steps: 2, method: "t2i-adapter"), model, withVae: true);

        Assert.All(result.LossHistory, loss => Assert.True(double.IsFinite(loss) && loss > 0));
        using var adapter = T2IAdapterFiles.LoadFolder(result.Outputs[^1]);
        Assert.Equal(T2IAdapterConfig.FullAdapterXl, adapter.Config.AdapterType);
        Assert.True(adapter.LayoutFits(model.Unet.Config));
        Assert.Contains(adapter.parameters(), p => p.abs().sum().item<float>() > 0);
    }

    [Fact]
    public void An_xl_adapter_for_a_unet_without_sdxl_s_three_down_blocks_is_refused_naming_adapter_type()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinySdxl();   // two down blocks, the first plain: the XL layout is chosen
        var e = Assert.Throws<TrainingConfigException>(() => TrainingTestKit.RunKeepingBase(ControlTrainingKit.ControlNetConfig(dir.Path, steps: 1, method: "t2i-adapter"), model, withVae: true));
        Assert.Equal("adapter_type", e.Key);
        Assert.Contains("this UNet has 2", e.Message, StringComparison.Ordinal);
    }
}
