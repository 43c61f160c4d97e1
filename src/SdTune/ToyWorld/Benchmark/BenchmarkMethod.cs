using SdTune.Training;

namespace SdTune.ToyWorld.Benchmark;

/// <summary>
/// One fine-tuning method as the concept benchmark runs it: a name, what it is, how it turns the shared base
/// configuration (model, instance data, output folder, step count) into its own training configuration, and how many
/// class pictures the base model makes for it.
/// </summary>
/// <param name="Name">The name on the command line and in the table, e.g. <c>lora</c>.</param>
/// <param name="Description">A short description for the table.</param>
/// <param name="Configure">Adds the method's own settings to the shared configuration.</param>
/// <param name="ProducesAdapter">True when the output is an adapter file applied to the base model (LoRA, LoCon);
/// false when it is a whole fine-tuned model (DreamBooth).</param>
/// <param name="ClassImages">Prior preservation: how many class-prompt pictures the base model makes, trained alongside
/// as kohya's regularisation images (weighted by the configuration's <c>prior_loss_weight</c>); 0 for none.</param>
public sealed record BenchmarkMethod(string Name, string Description, Func<TrainingConfig, TrainingConfig> Configure, bool ProducesAdapter, int ClassImages = 0);
