namespace SdTune.Training;

/// <summary>
/// One row of the concept benchmark (<c>sdtune bench methods</c>), declared by its training method: a name, what it
/// is, how it turns the shared base configuration (model, instance data, output folder, step count) into its own
/// training configuration, and how many class pictures the base model makes for it.
/// </summary>
/// <param name="Name">The name on the command line and in the table, e.g. <c>lora</c>.</param>
/// <param name="Description">A short description for the table.</param>
/// <param name="Configure">Adds the method's own settings to the shared configuration (whose <c>method</c> is already the
/// declaring method's), for the benchmark's subject (a method that learns a word takes the subject's identifier).</param>
/// <param name="ClassImages">Prior preservation: how many class-prompt pictures the base model makes, trained alongside
/// as kohya's regularisation images (weighted by the configuration's <c>prior_loss_weight</c>); 0 for none.</param>
public sealed record BenchmarkMethod(string Name, string Description, Func<TrainingConfig, BenchmarkSubject, TrainingConfig> Configure, int ClassImages = 0);

/// <summary>The words the concept benchmark's captions and prompts use for its subject.</summary>
/// <param name="Identifier">The rare word that names the subject, e.g. <c>sks</c>.</param>
/// <param name="ClassWord">The subject's class, e.g. <c>star</c>.</param>
public sealed record BenchmarkSubject(string Identifier, string ClassWord);
