using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Formats;

/// <summary>Broken, incomplete or wrong inputs fail with messages naming the file and what is wrong; saving is atomic.</summary>
public class ModelFormatErrorTests
{
    [Fact]
    public void Missing_component_folder_is_named_with_the_pipeline_folder()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TinyModels.Sd1();
        var folder = dir.File("pipeline");
        DiffusersPipelineFormat.Save(model, folder);
        Directory.Delete(Path.Combine(folder, "vae"), recursive: true);
        File.Delete(Path.Combine(folder, "scheduler", "scheduler_config.json"));
        var error = Assert.Throws<CheckpointFormatException>(() => StableDiffusionModels.Load(folder));
        Assert.Contains(folder, error.Message, StringComparison.Ordinal);
        Assert.Contains("vae/config.json", error.Message, StringComparison.Ordinal);
        Assert.Contains("scheduler/scheduler_config.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Folder_without_model_index_is_no_pipeline()
    {
        using var dir = TestPaths.NewTempDir();
        var error = Assert.Throws<CheckpointFormatException>(() => StableDiffusionModels.Load(dir.Path));
        Assert.Contains("model_index.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_shape_tensor_is_named_with_its_file()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TinyModels.Sd1();
        var folder = dir.File("pipeline");
        DiffusersPipelineFormat.Save(model, folder);
        var weights = Path.Combine(folder, "unet", "diffusion_pytorch_model.safetensors");
        using (var scope = NewDisposeScope())
        {
            var state = model.Unet.state_dict().Select(p => p.Key == "conv_out.weight" ? new KeyValuePair<string, Tensor>(p.Key, zeros(4, 32, 1, 1)) : p).ToList();
            SafetensorsWriter.Save(weights, state);
        }

        var error = Assert.Throws<CheckpointFormatException>(() => DiffusersPipelineFormat.Load(folder));
        Assert.Contains("conv_out.weight", error.Message, StringComparison.Ordinal);
        Assert.Contains(weights, error.Message, StringComparison.Ordinal);

        var single = dir.File("model.safetensors");
        SingleFileFormat.Save(model, single);
        using (var scope = NewDisposeScope())
        using (var file = SafetensorsFile.Open(single))
        {
            var tensors = file.ReadAll().Select(p => p.Key == "model.diffusion_model.out.2.weight" ? new KeyValuePair<string, Tensor>(p.Key, zeros(4, 32, 1, 1)) : p).ToList();
            file.Dispose();
            SafetensorsWriter.Save(single, tensors, file.Metadata);
        }

        error = Assert.Throws<CheckpointFormatException>(() => SingleFileFormat.Load(single));
        Assert.Contains("model.diffusion_model.out.2.weight", error.Message, StringComparison.Ordinal);
        Assert.Contains(single, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lora_given_as_a_checkpoint_is_called_a_lora()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("lora.safetensors");
        using (var scope = NewDisposeScope())
        {
            SafetensorsWriter.Save(path, new Dictionary<string, Tensor>
            {
                ["lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight"] = zeros(4, 320),
                ["lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight"] = zeros(320, 4),
                ["lora_unet_down_blocks_0_attentions_0_proj_in.alpha"] = tensor(4f),
            });
        }

        var error = Assert.Throws<CheckpointFormatException>(() => StableDiffusionModels.Load(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("LoRA", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_checkpoint_is_reported_with_its_name()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TinyModels.Sd1();
        foreach (var name in new[] { "model.safetensors", "model.ckpt" })
        {
            var path = dir.File(name);
            SingleFileFormat.Save(model, path);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
            var error = Assert.Throws<CheckpointFormatException>(() => StableDiffusionModels.Load(path));
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Unknown_tensors_fail_unless_allowed()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TinyModels.Sd1();
        var path = dir.File("model.safetensors");
        SingleFileFormat.Save(model, path);
        using (var scope = NewDisposeScope())
        {
            List<KeyValuePair<string, Tensor>> tensors;
            IReadOnlyDictionary<string, string> metadata;
            using (var file = SafetensorsFile.Open(path))
            {
                tensors = [.. file.ReadAll()];
                metadata = file.Metadata;
            }

            tensors.Add(new("model.diffusion_model.extra_head.weight", zeros(3)));
            SafetensorsWriter.Save(path, tensors, metadata);
        }

        var error = Assert.Throws<CheckpointFormatException>(() => SingleFileFormat.Load(path));
        Assert.Contains("model.diffusion_model.extra_head.weight", error.Message, StringComparison.Ordinal);
        using var loaded = SingleFileFormat.Load(path, new ModelLoadOptions { AllowUnknownKeys = true });
        TinyModels.AssertSameWeights(model, loaded);
        Assert.Contains(loaded.Notes, n => n.Contains("extra_head", StringComparison.Ordinal));
    }

    [Fact]
    public void Failed_save_leaves_the_previous_folder_intact()
    {
        using var dir = TestPaths.NewTempDir();
        var folder = dir.File("pipeline");
        using (var good = TinyModels.Sd1(seed: 3))
        {
            DiffusersPipelineFormat.Save(good, folder);
        }

        var before = TinyModels.Snapshot(folder);
        using var broken = TinyModels.Sd1(seed: 4);
        // The VAE is written last, so the failure comes after the other components were written.
        // A complex tensor cannot be stored in safetensors.
        broken.Vae.register_parameter("unsavable", new TorchSharp.Modules.Parameter(zeros(2, dtype: ScalarType.ComplexFloat32)));
        Assert.Throws<NotSupportedException>(() => DiffusersPipelineFormat.Save(broken, folder));
        var after = TinyModels.Snapshot(folder);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.All(before, f => Assert.Equal(f.Value, after[f.Key]));
        Assert.Equal(["pipeline"], Directory.EnumerateFileSystemEntries(dir.Path).Select(Path.GetFileName));

        // A successful save replaces the whole folder, dropping files the new model does not have.
        File.WriteAllText(Path.Combine(folder, "stale.txt"), "left from an older save");
        using var other = TinyModels.Sd1(seed: 5);
        DiffusersPipelineFormat.Save(other, folder);
        Assert.False(File.Exists(Path.Combine(folder, "stale.txt")));
        using var loaded = DiffusersPipelineFormat.Load(folder);
        TinyModels.AssertSameWeights(other, loaded);
        Assert.Equal(["pipeline"], Directory.EnumerateFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }
}
