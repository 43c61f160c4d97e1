using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints.Inspection;
using SdTune.Models;

namespace SdTune.Workshop.Lora;

/// <summary>
/// Reading LoRA files (every family <see cref="LoraFileReader"/> knows) for the tools: a file must be for the models'
/// family, and every one of its tensors must find its layer, since a tool that writes a new file would otherwise drop
/// what it could not place.
/// </summary>
public static class LoraInputs
{
    /// <summary>The family a LoRA file is for, from its key names, shapes and metadata; null when it cannot be told.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="IO.CheckpointFormatException">The file is corrupt or of no known container format.</exception>
    public static SdArchitecture? ArchitectureOf(string path)
    {
        var report = ModelInspector.Inspect(path);
        return report.Kind != ModelFileKind.Lora ? null : report.Architecture switch
        {
            ModelArchitecture.SD1 => SdArchitecture.SD1,
            ModelArchitecture.SD2 => SdArchitecture.SD2,
            ModelArchitecture.SDXL => SdArchitecture.SdxlBase,
            _ => null,
        };
    }

    /// <summary>Fails when a file's family differs from the one expected.</summary>
    /// <param name="path">The file.</param>
    /// <param name="architecture">Its family.</param>
    /// <param name="expected">The family it must be for.</param>
    /// <param name="expectedFrom">What set the expected family (another file, "the model"), for the message.</param>
    /// <exception cref="ArgumentException">The families differ; the message names the file.</exception>
    public static void CheckArchitecture(string path, SdArchitecture architecture, SdArchitecture expected, string expectedFrom)
    {
        if (architecture != expected)
        {
            throw new ArgumentException($"{path} is a LoRA for {Describe(architecture)}, but {expectedFrom} is for {Describe(expected)}: LoRAs of different base models cannot be combined.");
        }
    }

    /// <summary>Reads a LoRA file onto <paramref name="targets"/>, strictly (<see cref="CheckFamily"/>, then <see cref="CheckMatched"/>).</summary>
    /// <exception cref="ArgumentException">The file is for another family, holds tensors that fit no layer, holds no module,
    /// or a module does not fit its layer; the message names the file.</exception>
    public static LoraFile Read(string path, LoraTargets targets)
    {
        CheckFamily(path, targets);
        var file = LoraFileReader.Read(path, targets);
        try
        {
            CheckMatched(file, targets);
            return file;
        }
        catch
        {
            file.Network.Dispose();
            throw;
        }
    }

    /// <summary>Fails when the file is recognisably for another family than <paramref name="targets"/>.</summary>
    /// <exception cref="ArgumentException">The families differ; the message names the file.</exception>
    public static void CheckFamily(string path, LoraTargets targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (ArchitectureOf(path) is { } architecture)
        {
            CheckArchitecture(path, architecture, targets.Architecture, "the model");
        }
    }

    /// <summary>Fails when a file read onto <paramref name="targets"/> holds no module or tensors that fit no layer.</summary>
    /// <exception cref="ArgumentException">The message names the file and the first tensors left over.</exception>
    public static void CheckMatched(LoraFile file, LoraTargets targets)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(targets);
        if (file.Network.Entries.Count == 0)
        {
            throw new ArgumentException($"{file.Path}: no tensor of the file fits a layer of the {Describe(targets.Architecture)} model; is it a LoRA for another model?");
        }

        if (file.UnmatchedKeys.Count > 0)
        {
            throw new ArgumentException($"{file.Path}: {file.UnmatchedKeys.Count} tensor(s) fit no layer of the {Describe(targets.Architecture)} model or no known algorithm (first: {string.Join(", ", file.UnmatchedKeys.Take(3))}); is it a LoRA for another model?");
        }
    }

    /// <summary>A family as users call it: SD 1.x, SD 2.x, SDXL.</summary>
    public static string Describe(SdArchitecture architecture) => architecture switch
    {
        SdArchitecture.SD1 => "SD 1.x",
        SdArchitecture.SD2 => "SD 2.x",
        SdArchitecture.SdxlBase => "SDXL",
        _ => architecture.ToString(),
    };
}
