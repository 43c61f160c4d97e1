using SdTune.Checkpoints.Inspection;
using SdTune.Checkpoints.Pickle;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using static TorchSharp.torch;

namespace SdTune.Checkpoints.Embeddings;

/// <summary>
/// Reads and writes textual-inversion embeddings in every layout AUTOMATIC1111 reads: A1111/original-TI
/// <c>.pt</c> (<c>string_to_param</c>, also as a pickled <c>nn.ParameterDict</c>), kohya <c>emb_params</c>,
/// diffusers <c>learned_embeds</c> (<c>{token: vectors}</c>) and SDXL <c>clip_l</c>/<c>clip_g</c>, in
/// safetensors or pickle containers.
/// </summary>
public static class TextualInversionFile
{
    private static readonly string[] DiffusersFileNames = ["learned_embeds.safetensors", "learned_embeds.bin"];

    /// <summary>
    /// Loads an embedding; its name is the file name without extension. A folder holding diffusers'
    /// <c>learned_embeds.safetensors</c> (or <c>.bin</c>) is read as that file, named after the folder.
    /// </summary>
    /// <exception cref="CheckpointFormatException">The file is not an embedding in any known layout.</exception>
    public static TextualInversionEmbedding Load(string path)
    {
        var name = Path.GetFileNameWithoutExtension(path);
        if (Directory.Exists(path))
        {
            name = Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
            path = DiffusersFileNames.Select(f => Path.Combine(path, f)).FirstOrDefault(File.Exists)
                ?? throw new CheckpointFormatException(path, $"a folder without {string.Join(" or ", DiffusersFileNames)}, so not a textual-inversion embedding.");
        }

        return ContainerFormat.Detect(path) switch
        {
            ContainerKind.Safetensors => LoadSafetensors(path, name),
            ContainerKind.TorchPickle => LoadPickle(path, name),
            _ => throw new CheckpointFormatException(path, "not a safetensors or PyTorch file, so not a textual-inversion embedding."),
        };
    }

    /// <summary>
    /// Saves an embedding as safetensors in the layout A1111, ComfyUI and diffusers all read: <c>emb_params</c>
    /// for a single encoder, <c>clip_l</c> + <c>clip_g</c> for SDXL. Written atomically.
    /// </summary>
    public static void Save(TextualInversionEmbedding embedding, string path)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        var tensors = embedding.Vectors.Count == 1
            ? [new KeyValuePair<string, Tensor>("emb_params", embedding.Vectors.Values.First())]
            : embedding.Vectors.OrderBy(v => v.Key, StringComparer.Ordinal).ToList();
        var metadata = new Dictionary<string, string> { ["name"] = embedding.Name };
        if (embedding.Step is { } step)
        {
            metadata["step"] = step.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        SafetensorsWriter.Save(path, tensors, metadata);
    }

    /// <summary>
    /// Saves an embedding as the <c>.pt</c> AUTOMATIC1111's own trainer writes: a pickled dict with
    /// <c>string_to_token</c> (<c>{"*": 265}</c>), <c>string_to_param</c> (<c>{"*": vectors}</c>), <c>name</c>,
    /// <c>step</c>, <c>sd_checkpoint</c> and <c>sd_checkpoint_name</c>. An SDXL embedding is pickled as its
    /// <c>clip_l</c>/<c>clip_g</c> dict, the layout A1111 reads for SDXL. Written atomically.
    /// </summary>
    /// <param name="embedding">The embedding (its name, step and checkpoint name are stored).</param>
    /// <param name="path">The file to write.</param>
    /// <param name="checkpointHash">A1111's short hash of the model it was trained on, or null when unknown.</param>
    public static void SaveA1111(TextualInversionEmbedding embedding, string path, string? checkpointHash = null)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        var entries = new List<KeyValuePair<object, object?>>();
        if (embedding.Vectors.Count == 1)
        {
            entries.Add(new("string_to_token", PickleDictionary.Of([new("*", 265L)])));
            entries.Add(new("string_to_param", PickleDictionary.Of([new("*", embedding.Vectors.Values.First())])));
        }
        else
        {
            entries.AddRange(embedding.Vectors.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => new KeyValuePair<object, object?>(v.Key, v.Value)));
        }

        entries.Add(new("name", embedding.Name));
        entries.Add(new("step", embedding.Step));
        entries.Add(new("sd_checkpoint", checkpointHash));
        entries.Add(new("sd_checkpoint_name", embedding.CheckpointName));
        TorchCheckpointWriter.SaveObject(path, PickleDictionary.Of(entries));
    }

    /// <summary>
    /// Saves an embedding as diffusers' textual-inversion script writes <c>learned_embeds.safetensors</c>:
    /// <c>{token: vectors}</c> with the metadata <c>{"format": "pt"}</c>; an SDXL embedding as <c>clip_l</c> +
    /// <c>clip_g</c> (diffusers' advanced script's layout, loaded per encoder with <c>load_textual_inversion</c>). Written atomically.
    /// </summary>
    /// <param name="embedding">The embedding.</param>
    /// <param name="token">The placeholder token the vectors are stored under (single-encoder embeddings).</param>
    /// <param name="path">The file to write.</param>
    public static void SaveDiffusers(TextualInversionEmbedding embedding, string token, string path)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        ArgumentException.ThrowIfNullOrEmpty(token);
        var tensors = embedding.Vectors.Count == 1
            ? [new KeyValuePair<string, Tensor>(token, embedding.Vectors.Values.First())]
            : embedding.Vectors.OrderBy(v => v.Key, StringComparer.Ordinal).ToList();
        SafetensorsWriter.Save(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    /// <summary>
    /// Saves an embedding as diffusers' advanced (pivotal-tuning) scripts write <c>*_emb.safetensors</c>: the vectors
    /// keyed by encoder, <c>clip_l</c> (SD 1.x/2.x: the only key) and, for SDXL, <c>clip_g</c>; A1111 and ComfyUI read it
    /// as an embedding named after the file. Written atomically.
    /// </summary>
    /// <param name="embedding">The embedding.</param>
    /// <param name="path">The file to write.</param>
    /// <param name="metadata">Extra safetensors metadata, or null.</param>
    public static void SaveByEncoder(TextualInversionEmbedding embedding, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        var tensors = embedding.Vectors.Count == 1
            ? [new KeyValuePair<string, Tensor>("clip_l", embedding.Vectors.Values.First())]
            : embedding.Vectors.OrderBy(v => v.Key, StringComparer.Ordinal).ToList();
        SafetensorsWriter.Save(path, tensors, metadata);
    }

    /// <summary>A safetensors embedding; the <c>step</c> our own files record in the metadata is read back.</summary>
    private static TextualInversionEmbedding LoadSafetensors(string path, string name)
    {
        using var file = SafetensorsFile.Open(path);
        var step = file.Metadata.TryGetValue("step", out var text) && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var s) ? s : (long?)null;
        return FromTensors(path, name, [.. file.ReadAll()], "safetensors", step, null);
    }

    private static TextualInversionEmbedding LoadPickle(string path, string name)
    {
        if (TorchPickleFile.Load(path) is not PickleDictionary root)
        {
            throw new CheckpointFormatException(path, "not a textual-inversion embedding: the file does not hold a dictionary.");
        }

        if (root.TryGetValue("string_to_param", out var parameters))
        {
            // torch 1.11 / original TI files pickle an nn.ParameterDict: its tensors are in the state's "_parameters".
            if (parameters is PickleObject module && module.State is PickleDictionary state && state.TryGetValue("_parameters", out var inner))
            {
                parameters = inner;
            }

            if (parameters is not PickleDictionary dict || dict.Count != 1 || dict.Values.First() is not Tensor vector)
            {
                throw new CheckpointFormatException(path, "string_to_param must hold exactly one tensor (A1111 layout).");
            }

            var step = root.TryGetValue("step", out var s) && s is long l ? l : (long?)null;
            var checkpoint = root.TryGetValue("sd_checkpoint_name", out var c) ? c as string : null;
            return FromTensors(path, name, [new("*", vector)], "A1111 string_to_param", step, checkpoint);
        }

        var tensors = root.Where(e => e.Key is string && e.Value is Tensor).Select(e => new KeyValuePair<string, Tensor>((string)e.Key, (Tensor)e.Value!)).ToList();
        return FromTensors(path, name, tensors, "pickle", null, null);
    }

    private static TextualInversionEmbedding FromTensors(string path, string name, List<KeyValuePair<string, Tensor>> tensors, string container, long? step, string? checkpoint)
    {
        var byName = tensors.ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
        if (byName.TryGetValue("clip_l", out var clipL) && byName.TryGetValue("clip_g", out var clipG))
        {
            if (clipL.dim() == 0 || clipG.dim() == 0 || VectorCount(clipL) != VectorCount(clipG))
            {
                throw new CheckpointFormatException(path, $"clip_l [{string.Join(", ", clipL.shape)}] and clip_g [{string.Join(", ", clipG.shape)}] must hold the same number of vectors.");
            }

            return new TextualInversionEmbedding(name, new Dictionary<string, Tensor> { ["clip_l"] = AsMatrix(path, "clip_l", clipL), ["clip_g"] = AsMatrix(path, "clip_g", clipG) }, "SDXL clip_l/clip_g", step, checkpoint);
        }

        if (tensors.Count != 1)
        {
            throw new CheckpointFormatException(path, $"not a textual-inversion embedding: expected string_to_param, emb_params, clip_l + clip_g or a single {{token: vectors}} entry, found {tensors.Count} tensors ({string.Join(", ", tensors.Take(5).Select(t => t.Key))}{(tensors.Count > 5 ? ", ..." : "")}).");
        }

        var (key, value) = tensors[0];
        var format = key switch
        {
            "*" => container,
            "emb_params" => "kohya emb_params",
            "clip_l" => "clip_l only",
            _ => $"diffusers learned_embeds ('{key}')",
        };
        return new TextualInversionEmbedding(name, new Dictionary<string, Tensor> { [TextualInversionEmbedding.DefaultEncoderKey] = AsMatrix(path, key, value) }, format, step, checkpoint);
    }

    private static Tensor AsMatrix(string path, string key, Tensor tensor)
    {
        var matrix = tensor.dim() switch
        {
            1 => tensor.unsqueeze(0),
            2 => tensor,
            _ => throw new CheckpointFormatException(path, $"embedding tensor '{key}' has shape [{string.Join(", ", tensor.shape)}]; expected [vectors, width]."),
        };
        if (matrix.shape[0] == 0 || matrix.shape[1] == 0)
        {
            throw new CheckpointFormatException(path, $"embedding tensor '{key}' has shape [{string.Join(", ", tensor.shape)}]: no vectors.");
        }

        return matrix.to(ScalarType.Float32).detach();
    }

    private static long VectorCount(Tensor tensor) => tensor.dim() == 1 ? 1 : tensor.shape[0];
}
