namespace SdTune.Training;

/// <summary>
/// One sample image to generate during training, from a line of the prompts file
/// (<c>prompt --n negative --w 512 --h 512 --s 30 --l 7.5 --d 1234</c>).
/// </summary>
/// <param name="Prompt">The prompt.</param>
/// <param name="NegativePrompt">The negative prompt (<c>--n</c>); empty when not given.</param>
/// <param name="Width">Image width (<c>--w</c>); null: the model's own size.</param>
/// <param name="Height">Image height (<c>--h</c>); null: the model's own size.</param>
/// <param name="Steps">Sampling steps (<c>--s</c>, default 30, clamped to 1..1000).</param>
/// <param name="CfgScale">Classifier-free guidance scale (<c>--l</c>, default 7.5).</param>
/// <param name="Seed">Seed (<c>--d</c>); null when not given (the trainer then derives one from the run's seed).</param>
public sealed record SamplePrompt(string Prompt, string NegativePrompt = "", int? Width = null, int? Height = null, int Steps = 30, double CfgScale = 7.5, long? Seed = null);
