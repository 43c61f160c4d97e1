using SdTune.Imaging;

namespace SdTune.Training.Methods;

/// <summary>
/// What A1111's embedding and hypernetwork files record of the model they were trained on: <c>sd_checkpoint_name</c>
/// (the model's file or folder name) and <c>sd_checkpoint</c> (A1111's short hash of a single-file model, null for a
/// folder). The hash reads the whole file, so it is computed once per run, at the first save.
/// </summary>
internal sealed class BaseModelStamp
{
    private string? hash;
    private bool hashed;

    /// <summary>The name of the model at <paramref name="model"/>, or null when none is given.</summary>
    public static string? Name(string? model) =>
        model is null ? null : Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(model));

    /// <summary>A1111's short hash of a single-file model (once per run), or null for a folder or none.</summary>
    public string? Hash(string? model)
    {
        if (!hashed)
        {
            hash = model is not null && File.Exists(model) ? ModelHashes.ShortHash(model) : null;
            hashed = true;
        }

        return hash;
    }
}
