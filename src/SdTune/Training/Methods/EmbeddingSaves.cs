using SdTune.Checkpoints.Embeddings;

namespace SdTune.Training.Methods;

/// <summary>
/// Writes learned token vectors (<see cref="NewTokens"/>) as embedding files, in the layouts <c>save_embedding_as</c>
/// names, and says how such a file is used at inference: its file name is the word prompts use (A1111's rule).
/// </summary>
internal sealed class EmbeddingSaves
{
    /// <summary>kohya/A1111 safetensors (<c>emb_params</c>; SDXL <c>clip_l</c> + <c>clip_g</c>).</summary>
    public const string Safetensors = "safetensors";

    /// <summary>A1111's own <c>.pt</c> (<c>string_to_param</c>).</summary>
    public const string Pt = "pt";

    /// <summary>diffusers' <c>learned_embeds.safetensors</c> in a folder named after the output.</summary>
    public const string Diffusers = "diffusers";

    private readonly BaseModelStamp stamp = new();

    /// <summary>The layouts <c>save_embedding_as</c> accepts.</summary>
    public static IReadOnlyList<string> Layouts { get; } = [Safetensors, Pt, Diffusers];

    /// <summary>How an embedding output is used: added to the generation; prompts name it by its file name.</summary>
    public static TrainedOutput Output { get; } = TrainedOutput.AppliedToBase(
        (request, path) => request with { Embeddings = [.. request.Embeddings, path] },
        "sdtune generate --embedding {0} with the file's name in the prompt (or put the file in the --embeddings folder)");

    /// <summary>
    /// Writes the vectors of <paramref name="tokens"/> as <paramref name="name"/> in each of <paramref name="layouts"/>
    /// (safetensors when none is given); returns the paths, the preferred one (safetensors, then pt) last.
    /// </summary>
    /// <param name="tokens">The learned tokens.</param>
    /// <param name="folder">The output folder.</param>
    /// <param name="name">The output's name: the embedding's name in prompts.</param>
    /// <param name="info">The run (step, base model).</param>
    /// <param name="layouts">The layouts to write.</param>
    /// <param name="token">The placeholder the diffusers layout stores the vectors under.</param>
    public IReadOnlyList<string> Save(NewTokens tokens, string folder, string name, TrainingRunInfo info, IReadOnlyList<string> layouts, string token)
    {
        var model = info.Config.PretrainedModel;
        using var embedding = tokens.ToEmbedding(name, info.Step, BaseModelStamp.Name(model));
        var wanted = layouts.Count == 0 ? [Safetensors] : layouts.Distinct(StringComparer.Ordinal).ToList();
        var paths = new List<string>();
        if (wanted.Contains(Diffusers))
        {
            var diffusersFolder = Path.Combine(folder, name);
            Directory.CreateDirectory(diffusersFolder);
            TextualInversionFile.SaveDiffusers(embedding, token, Path.Combine(diffusersFolder, "learned_embeds.safetensors"));
            paths.Add(diffusersFolder);
        }

        if (wanted.Contains(Pt))
        {
            var path = Path.Combine(folder, name + ".pt");
            TextualInversionFile.SaveA1111(embedding, path, stamp.Hash(model));
            paths.Add(path);
        }

        if (wanted.Contains(Safetensors))
        {
            var path = Path.Combine(folder, name + ".safetensors");
            TextualInversionFile.Save(embedding, path);
            paths.Add(path);
        }

        return paths;
    }
}
