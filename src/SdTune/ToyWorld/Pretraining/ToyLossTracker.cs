namespace SdTune.ToyWorld.Pretraining;

/// <summary>Keeps the mean of the first losses and a window of the latest ones.</summary>
internal sealed class ToyLossTracker
{
    private const int FirstCount = 20;
    private const int LastCount = 100;
    private readonly List<double> first = [];
    private readonly Queue<double> last = new();

    public void Add(long step, double loss)
    {
        if (!double.IsFinite(loss))
        {
            throw new Training.TrainingDivergedException(step, loss, null);
        }

        if (first.Count < FirstCount)
        {
            first.Add(loss);
        }

        last.Enqueue(loss);
        if (last.Count > LastCount)
        {
            last.Dequeue();
        }
    }

    public double First => first.Count == 0 ? double.NaN : first.Average();

    public double Last => last.Count == 0 ? double.NaN : last.Average();
}
