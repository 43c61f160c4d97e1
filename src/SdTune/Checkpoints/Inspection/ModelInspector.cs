using System.Text.Json;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;

namespace SdTune.Checkpoints.Inspection;

/// <summary>
/// Tells what a model file or folder is (checkpoint, VAE, LoRA and its flavour, embedding, hypernetwork, ...)
/// and summarises it: tensor and parameter counts, dtypes, metadata. Reads headers, not weights, where the
/// format allows it.
/// </summary>
public static class ModelInspector
{
    private static readonly string[] WeightFileNames =
    [
        "diffusion_pytorch_model.safetensors", "model.safetensors", "diffusion_pytorch_model.fp16.safetensors", "model.fp16.safetensors",
        "diffusion_pytorch_model.bin", "pytorch_model.bin", "diffusion_pytorch_model.fp16.bin", "pytorch_model.fp16.bin",
    ];

    /// <summary>Inspects a file or folder.</summary>
    /// <exception cref="FileNotFoundException">Nothing exists at <paramref name="path"/>.</exception>
    /// <exception cref="CheckpointFormatException">The file is corrupt or of an unknown container format.</exception>
    public static InspectionReport Inspect(string path)
    {
        if (Directory.Exists(path))
        {
            return InspectFolder(path);
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: no such file or folder.", path);
        }

        return ContainerFormat.Detect(path) switch
        {
            ContainerKind.Safetensors => InspectSafetensors(path),
            ContainerKind.TorchPickle => TorchPickleInspector.Inspect(path),
            _ => throw new CheckpointFormatException(path, "not a safetensors file, a PyTorch zip/pickle checkpoint or a diffusers folder."),
        };
    }

    /// <summary>Builds a report from tensor entries and metadata (shared by every container format).</summary>
    internal static InspectionReport Summarise(string path, string format, IReadOnlyCollection<TensorEntry> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var verdict = StateDictClassifier.Classify(tensors);
        var architecture = verdict.Architecture == ModelArchitecture.Unknown ? ArchitectureFromMetadata(metadata) : verdict.Architecture;
        return new InspectionReport
        {
            Path = path,
            Format = format,
            Kind = verdict.Kind,
            Architecture = architecture,
            Flavour = verdict.Flavour,
            TensorCount = tensors.Count,
            ParameterCount = tensors.Sum(t => t.ElementCount),
            DTypes = tensors.GroupBy(t => t.DType).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count()),
            Metadata = metadata,
        };
    }

    private static InspectionReport InspectSafetensors(string path)
    {
        using var file = SafetensorsFile.Open(path);
        var tensors = file.Tensors.Select(t => new TensorEntry(t.Name, t.DType.ToString(), t.Shape)).ToList();
        return Summarise(path, "safetensors", tensors, file.Metadata);
    }

    private static ModelArchitecture ArchitectureFromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        if (metadata.TryGetValue("ss_base_model_version", out var version))
        {
            return version.StartsWith("sdxl_", StringComparison.Ordinal) ? ModelArchitecture.SDXL
                : version.StartsWith("sd_v2", StringComparison.Ordinal) ? ModelArchitecture.SD2
                : version.StartsWith("sd_v1", StringComparison.Ordinal) ? ModelArchitecture.SD1
                : ModelArchitecture.Unknown;
        }

        return metadata.TryGetValue("ss_v2", out var v2) && v2 == "True" ? ModelArchitecture.SD2 : ModelArchitecture.Unknown;
    }

    private static InspectionReport InspectFolder(string folder)
    {
        var index = Path.Combine(folder, "model_index.json");
        if (File.Exists(index))
        {
            return InspectPipeline(folder, index);
        }

        var weights = FindWeightFile(folder)
            ?? throw new CheckpointFormatException(folder, "folder has no model_index.json (diffusers pipeline) and no diffusion_pytorch_model/model weight file (diffusers component).");
        var component = Inspect(weights);
        var report = component with { Path = folder, Format = "diffusers-folder", Components = [component] };
        return report.Kind == ModelFileKind.T2IAdapter && ConfigString(folder, "adapter_type") is { } adapterType
            ? report with { Flavour = "diffusers layout, " + adapterType, Architecture = adapterType == "full_adapter_xl" ? ModelArchitecture.SDXL : report.Architecture }
            : report;
    }

    /// <summary>A string field of the folder's config.json, or null when there is none (or it is unreadable).</summary>
    private static string? ConfigString(string folder, string field)
    {
        var path = Path.Combine(folder, "config.json");
        try
        {
            using var document = IO.StrictJson.Parse(File.ReadAllText(path));
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(field, out var value)
                && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }

    private static InspectionReport InspectPipeline(string folder, string indexPath)
    {
        string pipelineClass;
        var componentNames = new List<string>();
        try
        {
            using var document = IO.StrictJson.Parse(File.ReadAllText(indexPath));
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new CheckpointFormatException(indexPath, $"expected a JSON object, found {document.RootElement.ValueKind}.");
            }

            pipelineClass = document.RootElement.TryGetProperty("_class_name", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString()! : "unknown pipeline";
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!property.Name.StartsWith('_') && property.Value.ValueKind == JsonValueKind.Array)
                {
                    componentNames.Add(property.Name);
                }
            }
        }
        catch (JsonException e)
        {
            throw new CheckpointFormatException(indexPath, $"not valid JSON: {e.Message}");
        }

        var components = new List<InspectionReport>();
        var notes = new List<string>();
        foreach (var name in componentNames)
        {
            var sub = Path.Combine(folder, name);
            var weights = Directory.Exists(sub) ? FindWeightFile(sub) : null;
            if (weights is null)
            {
                notes.Add($"component '{name}' has no weight file");
                continue;
            }

            components.Add(Inspect(weights) with { Path = sub });
        }

        var architecture = pipelineClass.Contains("XL", StringComparison.Ordinal) ? ModelArchitecture.SDXL
            : components.FirstOrDefault(c => c.Kind == ModelFileKind.Unet)?.Architecture ?? ModelArchitecture.Unknown;
        return new InspectionReport
        {
            Path = folder,
            Format = "diffusers-folder",
            Kind = ModelFileKind.DiffusersPipeline,
            Architecture = architecture,
            Flavour = pipelineClass,
            TensorCount = components.Sum(c => c.TensorCount),
            ParameterCount = components.Sum(c => c.ParameterCount),
            DTypes = components.SelectMany(c => c.DTypes).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Sum(p => p.Value)),
            Components = components,
            Notes = notes,
        };
    }

    private static string? FindWeightFile(string folder) =>
        WeightFileNames.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);
}
