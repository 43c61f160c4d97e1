using System.Diagnostics;
using TorchSharp.Modules;

namespace SdTune.Training.Loop;

/// <summary>
/// What a run reports and records: warnings and notes (to the caller's log as they happen), the outputs and state
/// folders written, the loss of every step, the progress report after each step and the TensorBoard scalars.
/// </summary>
internal sealed class TrainingJournal(TrainerServices services)
{
    private readonly List<string> warnings = [];
    private readonly List<string> outputs = [];
    private readonly List<string> stateFolders = [];
    private readonly List<double> losses = [];
    private readonly Queue<double> recent = new();
    private SummaryWriter? tensorBoard;

    /// <summary>The warnings so far (a method adds its own through <see cref="TrainingContext.Warnings"/>).</summary>
    public List<string> Warnings => warnings;

    /// <summary>Writes TensorBoard scalars to <paramref name="folder"/> from now on.</summary>
    public void LogTo(string folder) => tensorBoard = TorchSharp.torch.utils.tensorboard.SummaryWriter(folder, "", false);

    public void Warn(string message)
    {
        warnings.Add(message);
        services.Log?.Invoke(message);
    }

    public void Note(string message) => services.Log?.Invoke(message);

    public void Output(IEnumerable<string> paths) => outputs.AddRange(paths);

    public void StateFolder(string folder) => stateFolders.Add(folder);

    /// <summary>Records a step's loss and reports progress.</summary>
    public void Step(TrainingPosition position, long totalSteps, int totalEpochs, int epoch, double loss, Dictionary<string, double> rates, Stopwatch clock, long sessionStart)
    {
        losses.Add(loss);
        recent.Enqueue(loss);
        if (recent.Count > 100)
        {
            recent.Dequeue();
        }

        var step = position.GlobalStep;
        var perSecond = (step - sessionStart) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        var remaining = TimeSpan.FromSeconds(perSecond > 0 ? (totalSteps - step) / perSecond : 0);
        services.Progress?.Report(new TrainingProgress(step, totalSteps, epoch, totalEpochs, loss, recent.Average(), rates, perSecond, remaining));
        if (tensorBoard is not null)
        {
            var at = (int)Math.Min(step, int.MaxValue);
            tensorBoard.add_scalar("loss/current", (float)loss, at);
            tensorBoard.add_scalar("loss/average", (float)recent.Average(), at);
            foreach (var (group, rate) in rates)
            {
                tensorBoard.add_scalar($"lr/{group}", (float)rate, at);
            }
        }
    }

    public TrainingResult Result(long steps) => new(steps, [.. outputs], [.. stateFolders], [.. losses], [.. warnings]);
}
