namespace SdTune.Training.Methods;

/// <summary>The built-in training methods by name.</summary>
public static class TrainingMethods
{
    /// <summary>The method names: "lora", "dreambooth".</summary>
    public static IReadOnlyList<string> Names { get; } = ["lora", "dreambooth"];

    /// <summary>Creates the method a configuration names.</summary>
    /// <exception cref="TrainingConfigException">The name is unknown.</exception>
    public static ITrainingMethod Create(string name) => name switch
    {
        "lora" => new LoraMethod(),
        "dreambooth" => new DreamBoothMethod(),
        _ => throw new TrainingConfigException("method", $"unknown method \"{name}\"; use {string.Join(" or ", Names)}."),
    };
}
