using SdTune.Checkpoints.Safetensors;
using SdTune.Tests.Training.Data;
using SdTune.Training;
using SkiaSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Methods;

/// <summary>
/// Tiny ControlNet / T2I-Adapter datasets: 40x32 images whose left half has its own colour, and condition images that
/// are their colour inverse, so a condition image lines up with its image exactly when paired, cropped and flipped alike.
/// </summary>
internal static class ControlTrainingKit
{
    /// <summary>The image folder convention: <c>root/train/2_toy/imgNN.png</c> with captions and <c>conditioning/imgNN.png</c>.</summary>
    public static string FolderDataset(string root, int count = 4)
    {
        var subset = Path.Combine(root, "train", "2_toy");
        for (var i = 0; i < count; i++)
        {
            var (color, left) = Colors(i);
            DataTestFiles.Png(Path.Combine(subset, $"img{i:D2}.png"), 40, 32, color, left);
            DataTestFiles.Png(Path.Combine(subset, "conditioning", $"img{i:D2}.png"), 40, 32, Inverse(color), Inverse(left));
            File.WriteAllText(Path.Combine(subset, $"img{i:D2}.caption"), $"a toy, picture {i}");
        }

        return Path.GetDirectoryName(subset)!;
    }

    /// <summary>A diffusers imagefolder: <c>root/jsonl/images/*.png</c>, <c>root/jsonl/conditions/*.png</c> and <c>metadata.jsonl</c>.</summary>
    public static string JsonlDataset(string root, int count = 4, string conditioningKey = "conditioning_file_name")
    {
        var folder = Path.Combine(root, "jsonl");
        var lines = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var (color, left) = Colors(i);
            DataTestFiles.Png(Path.Combine(folder, "images", $"p{i}.png"), 40, 32, color, left);
            DataTestFiles.Png(Path.Combine(folder, "conditions", $"c{i}.png"), 40, 32, Inverse(color), Inverse(left));
            lines.Add($"{{\"file_name\": \"images/p{i}.png\", \"{conditioningKey}\": \"conditions/c{i}.png\", \"text\": \"a toy, picture {i}\"}}");
        }

        File.WriteAllLines(Path.Combine(folder, "metadata.jsonl"), lines);
        return folder;
    }

    /// <summary>A ControlNet configuration on <see cref="FolderDataset"/>.</summary>
    public static TrainingConfig ControlNetConfig(string root, int steps = 3, string method = "controlnet") => new()
    {
        Method = method,
        PretrainedModel = "tiny-model",
        OutputDir = Path.Combine(root, "out"),
        OutputName = "control",
        TrainDataDir = FolderDataset(root),
        Resolution = "32",
        TrainBatchSize = 2,
        LearningRate = 1e-3,
        MaxTrainSteps = steps,
        Seed = 4321,
    };

    /// <summary>
    /// Runs <paramref name="config"/> (4 steps, state saved at step 2) straight, then again from the step-2 state into
    /// <paramref name="resumedOutputDir"/>: the saved weights are bit-identical.
    /// </summary>
    public static void AssertResumesBitIdentically(TrainingConfig config, string resumedOutputDir)
    {
        string straight;
        string state;
        using (var model = TrainingTestKit.TinyModel())
        {
            var result = new Trainer(config, new TrainerServices { Model = model }).Run();
            straight = result.Outputs[^1];
            state = Assert.Single(result.StateFolders, s => s.EndsWith(config.OutputName + "-step00000002-state", StringComparison.Ordinal));
        }

        using (var model = TrainingTestKit.TinyModel())
        {
            var result = new Trainer(config with { OutputDir = resumedOutputDir, Resume = state }, new TrainerServices { Model = model }).Run();
            Assert.Equal(2, result.LossHistory.Count);
            using var e = SafetensorsFile.Open(Path.Combine(straight, "diffusion_pytorch_model.safetensors"));
            using var a = SafetensorsFile.Open(Path.Combine(result.Outputs[^1], "diffusion_pytorch_model.safetensors"));
            using var scope = NewDisposeScope();
            TrainingTestKit.AssertBitIdentical(e.ReadAll().ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal), a.ReadAll().ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal));
        }
    }

    private static (SKColor Color, SKColor Left) Colors(int i) =>
        (new SKColor((byte)(60 + (i * 37 % 120)), (byte)(180 - (i * 23 % 100)), 90), new SKColor(200, (byte)(50 + (i * 41 % 140)), (byte)(70 + (i * 29 % 120))));

    private static SKColor Inverse(SKColor c) => new((byte)(255 - c.Red), (byte)(255 - c.Green), (byte)(255 - c.Blue));
}
