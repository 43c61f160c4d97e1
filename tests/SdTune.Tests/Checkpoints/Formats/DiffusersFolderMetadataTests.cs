using SdTune.Checkpoints;
using SdTune.Checkpoints.Safetensors;

namespace SdTune.Tests.Checkpoints.Formats;

/// <summary>The weight files of a diffusers folder carry what <c>save_pretrained</c> writes into them.</summary>
public class DiffusersFolderMetadataTests
{
    [Fact]
    public void Every_safetensors_file_of_a_written_folder_has_format_pt_metadata()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TinyModels.Sdxl();
        var folder = dir.File("pipeline");
        DiffusersPipelineFormat.Save(model, folder);

        var files = Directory.GetFiles(folder, "*.safetensors", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(
            ["text_encoder/model.safetensors", "text_encoder_2/model.safetensors", "unet/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.safetensors"],
            files.Select(f => Path.GetRelativePath(folder, f).Replace('\\', '/')));
        foreach (var file in files)
        {
            using var st = SafetensorsFile.Open(file);
            Assert.Equal([new KeyValuePair<string, string>("format", "pt")], st.Metadata);
        }
    }
}
