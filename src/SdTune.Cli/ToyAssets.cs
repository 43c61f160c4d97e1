namespace SdTune.Cli;

/// <summary>
/// The toy world's files that ship with the command (copied next to it from the repository's <c>toyworld/</c>
/// folder): the pretrained toy base model and the default concept-benchmark spec.
/// </summary>
internal static class ToyAssets
{
    /// <summary>The embedded toy base model (a diffusers folder).</summary>
    public static string BaseModel => Path.Combine(AppContext.BaseDirectory, "toyworld", "base-model");

    /// <summary>The default concept-benchmark spec.</summary>
    public static string BenchmarkSpec => Path.Combine(AppContext.BaseDirectory, "toyworld", "benchmark.toml");

    /// <summary>The model to use: <paramref name="given"/>, or the embedded one (which must exist).</summary>
    /// <exception cref="FileNotFoundException">No model was given and the embedded one is missing.</exception>
    public static string ModelOrDefault(string? given)
    {
        if (given is not null)
        {
            return given;
        }

        if (!File.Exists(Path.Combine(BaseModel, "model_index.json")))
        {
            throw new FileNotFoundException($"{BaseModel}: the embedded toy base model is missing; pass --model, or rebuild it with `sdtune toyworld pretrain --out {BaseModel}`.");
        }

        return BaseModel;
    }
}
