namespace SdTune.Cli.Commands;

/// <summary>Messages the LoRA file tools share.</summary>
internal static class LoraToolOutput
{
    /// <summary>Warns (on standard error) about tensors that match no layer of the models, naming the first few.</summary>
    public static void Warn(IReadOnlyList<string> unmatched, string what)
    {
        if (unmatched.Count > 0)
        {
            Console.Error.WriteLine($"warning: {unmatched.Count} tensor(s) match no layer of the model and were {what}: {string.Join(", ", unmatched.Take(5))}{(unmatched.Count > 5 ? ", ..." : "")}");
        }
    }
}
