using SdTune.Training.Optimization;
using static TorchSharp.torch;

namespace SdTune.Training.Loop;

/// <summary>
/// Writes a run's outputs (through the method, with the EMA weights in place when there are any) and its resumable
/// state folders, and restores a run from one.
/// </summary>
internal sealed class TrainingSaves(TrainingParts parts, TrainingPosition position, TrainingJournal journal)
{
    private TrainingConfig Config => parts.Config;

    /// <summary>Saves the method's output as <paramref name="name"/> in the output folder.</summary>
    public void Output(string name)
    {
        // With EMA the averaged weights are what gets saved; the live ones go back afterwards.
        parts.Ema?.Store(parts.Trainable);
        parts.Ema?.CopyTo(parts.Trainable);
        try
        {
            var written = parts.Method.SaveOutput(parts.OutputDir, name, RunInfo());
            journal.Output(written);
            position.LastSave = written.LastOrDefault() ?? position.LastSave;
        }
        finally
        {
            parts.Ema?.Restore(parts.Trainable);
        }
    }

    /// <summary>Writes a state folder that a run with <c>resume</c> continues from bit for bit.</summary>
    public void State(string folder)
    {
        using var scope = NewDisposeScope();
        var state = new TrainingState
        {
            Method = parts.Method.Name,
            GlobalStep = position.GlobalStep,
            Epoch = position.Epoch,
            BatchIndex = position.BatchIndex,
            SessionId = position.SessionId,
            StartedAt = position.StartedAt,
            LossScale = parts.Scaler?.Scale,
            LossScaleGrowthTracker = parts.Scaler?.GrowthTracker ?? 0,
            ConfigToml = parts.Resolved.ToToml(),
        };
        using var snapshot = parts.Optimizer.GetState();
        var rng = new List<KeyValuePair<string, Tensor>>
        {
            new("generator", parts.Generator.get_state()),
            new("torch_default", TorchSharp.torch.random.get_rng_state()),
        };
        TrainingState.Save(folder, state, parts.Method.GetState(), snapshot, parts.Ema?.GetState(), rng);
        journal.StateFolder(folder);
        position.LastSave = folder;
    }

    /// <summary>Restores the method, optimizer, EMA, generators, loss scale and position from a state folder.</summary>
    /// <exception cref="TrainingConfigException">The folder holds another method's state.</exception>
    public void Restore(string folder)
    {
        using var scope = NewDisposeScope();
        var state = TrainingState.Load(folder);
        if (state.Method != parts.Method.Name)
        {
            throw new TrainingConfigException("resume", $"{folder} holds a {state.Method} state, but this run trains with {parts.Method.Name}.");
        }

        parts.Method.LoadState(TrainingState.ReadTensors(folder, TrainingState.MethodFile));
        using (var snapshot = OptimizerSnapshot.Load(Path.Combine(folder, TrainingState.OptimizerFile)))
        {
            parts.Optimizer.LoadState(snapshot);
        }

        parts.Ema?.LoadState(TrainingState.ReadTensors(folder, TrainingState.EmaFile));
        var rng = TrainingState.ReadTensors(folder, TrainingState.RngFile);
        parts.Generator.set_state(rng["generator"]);
        TorchSharp.torch.random.set_rng_state(rng["torch_default"]);
        if (parts.Scaler is not null && state.LossScale is { } scale)
        {
            parts.Scaler.Restore(scale, state.LossScaleGrowthTracker);
        }

        if (state.ConfigToml.Length > 0 && !parts.Resolved.SameRunAs(TrainingConfig.Parse(state.ConfigToml, Path.Combine(folder, TrainingState.ConfigFile))))
        {
            journal.Warn($"resume: the configuration differs from the one {folder} was saved with; the result will not match an uninterrupted run.");
        }

        position.GlobalStep = state.GlobalStep;
        position.Epoch = state.Epoch;
        position.BatchIndex = state.BatchIndex;
        position.SessionId = state.SessionId;
        position.StartedAt = state.StartedAt;
        position.LastSave = folder;
        if (position.GlobalStep > parts.TotalSteps)
        {
            journal.Warn($"resume: the state is at step {position.GlobalStep}, past this run's {parts.TotalSteps} steps; nothing left to train.");
        }

        journal.Note($"Resumed from {folder} at step {position.GlobalStep} (epoch {position.Epoch}, batch {position.BatchIndex}).");
    }

    private TrainingRunInfo RunInfo() => new()
    {
        Config = Config,
        SessionId = position.SessionId,
        StartedAt = position.StartedAt,
        Step = position.GlobalStep,
        Epoch = position.SavedEpoch,
        TotalSteps = parts.TotalSteps,
        TotalEpochs = parts.TotalEpochs,
        Resolution = parts.Resolved.Resolution,
        BatchesPerEpoch = parts.Data.BatchesPerEpoch,
        TrainImages = parts.Data.TrainImages,
        RegImages = parts.Data.RegImages,
        Dataset = parts.Data.Summary,
        Optimizer = OptimizerArguments.Describe(parts.Optimizer.Name, Config.OptimizerArgs),
        WarmupSteps = parts.LrSchedule.WarmupSteps,
    };
}
