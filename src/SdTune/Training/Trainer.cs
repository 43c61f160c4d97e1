using SdTune.Checkpoints;
using SdTune.Models;
using SdTune.Training.Loop;
using SdTune.Training.Methods;

namespace SdTune.Training;

/// <summary>
/// Trains a model with any <see cref="ITrainingMethod"/>: the one training loop of SdTune (its session lives in
/// <c>Training/Loop</c>). Every random draw comes from the run's seeded generators, whose states go into the resumable
/// state, so a resumed run repeats a straight one bit for bit on the CPU.
/// </summary>
public sealed class Trainer
{
    private readonly TrainerServices services;

    /// <summary>Creates a trainer; the configuration is validated here.</summary>
    /// <exception cref="TrainingConfigException">The configuration is invalid; the message names the key.</exception>
    public Trainer(TrainingConfig config, TrainerServices? services = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        this.services = services ?? new TrainerServices();
    }

    /// <summary>The validated configuration.</summary>
    public TrainingConfig Config { get; }

    /// <summary>
    /// Runs the training to its end (or until <paramref name="cancellationToken"/> is cancelled, which stops after the
    /// current optimizer step and, with <c>save_state</c>, writes a state folder to resume from).
    /// </summary>
    /// <exception cref="TrainingConfigException">A configuration problem found while setting up.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    public TrainingResult Run(CancellationToken cancellationToken = default)
    {
        var model = services.Model ?? StableDiffusionModels.Load(Config.PretrainedModel!);
        try
        {
            var resolved = Config.Resolve(model);
            using var method = services.Method ?? TrainingMethods.Create(Config.Method);
            using var session = TrainingSession.Start(resolved, services, model, method);
            return session.Execute(cancellationToken);
        }
        finally
        {
            if (services.Model is null)
            {
                model.Dispose();
            }
        }
    }
}
