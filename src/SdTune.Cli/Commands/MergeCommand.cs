using System.CommandLine;
using System.Globalization;
using SdTune.Cli.Output;
using SdTune.Workshop.Merge;

namespace SdTune.Cli.Commands;

/// <summary>
/// <c>sdtune merge A B [C] --out FILE</c>: a weighted sum or add difference of checkpoints, with per-block α
/// (<see cref="CheckpointMerge"/>), streamed tensor by tensor.
/// </summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var models = new Argument<string[]>("models") { Description = "Checkpoints A B [C] (.safetensors or .ckpt, original single-file layout).", Arity = new ArgumentArity(2, 3) };
        var mode = new Option<string?>("--mode") { Description = "weighted-sum: A*(1-alpha) + B*alpha (two models); add-difference: A + (B-C)*alpha (three). Default: by the number of models." };
        var alpha = new Option<double?>("--alpha") { Description = $"The base alpha: every tensor's, or with --block-weights those outside the numbered UNet blocks (time embedding, out., text encoders, VAE). Default {MergeBlockWeights.DefaultAlpha}." };
        var blocks = new Option<string?>("--block-weights") { Description = "Per-block alpha, comma-separated: IN00..IN11,M00,OUT00..OUT11 (25; SDXL IN00..IN08,M00,OUT00..OUT08: 19), or with BASE first (26; SDXL 20)." };
        var output = new Option<string>("--out") { Description = "The merged checkpoint to write (.safetensors; never one of the inputs).", Required = true };
        var dtype = new Option<string?>("--dtype") { Description = "fp16, bf16 or fp32 (default: A's types)." };
        var textEncoder = new Option<string>("--text-encoder") { Description = "merge (with the base alpha) or a (copy A's).", DefaultValueFactory = _ => "merge" };
        var vae = new Option<string>("--vae") { Description = "merge (with the base alpha) or a (copy A's).", DefaultValueFactory = _ => "merge" };
        var bakeVae = new Option<string?>("--bake-vae") { Description = "Replace the VAE with this VAE file's weights (original layout), as A1111's \"Bake in VAE\"." };
        var discard = new Option<string?>("--discard") { Description = "Leave out keys matching this regular expression, as A1111's \"Discard weights with matching name\"." };
        var command = new Command("merge", "Merge checkpoints: weighted sum or add difference, with per-block weights (MBW), streamed tensor by tensor.")
        {
            models, mode, alpha, blocks, output, dtype, textEncoder, vae, bakeVae, discard,
        };
        command.SetAction(parse =>
        {
            var paths = parse.GetRequiredValue(models);
            var recipe = new MergeRecipe
            {
                ModelA = paths[0],
                ModelB = paths[1],
                ModelC = paths.Length > 2 ? paths[2] : null,
                Mode = ParseMode(parse.GetValue(mode), paths.Length),
                Alpha = parse.GetValue(alpha),
                BlockWeights = parse.GetValue(blocks) is { } text ? ParseWeights(text) : null,
                Output = parse.GetRequiredValue(output),
                DType = parse.GetValue(dtype) is { } type ? GenerateCommand.ParseDType(type) : null,
                TextEncoder = ParseSource("--text-encoder", parse.GetValue(textEncoder)!),
                Vae = ParseSource("--vae", parse.GetValue(vae)!),
                BakeVae = parse.GetValue(bakeVae),
                Discard = parse.GetValue(discard),
            };
            var report = StepProgress.Run("merging", progress => CheckpointMerge.Run(recipe, (done, total) => progress.Report(done, total, "merging")));
            foreach (var warning in report.Warnings())
            {
                Console.Error.WriteLine($"warning: {warning}");
            }

            var baked = report.BakedVae > 0 ? string.Create(CultureInfo.InvariantCulture, $", {report.BakedVae} from the baked-in VAE") : "";
            var discarded = report.Discarded > 0 ? string.Create(CultureInfo.InvariantCulture, $", {report.Discarded} discarded") : "";
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{report.Tensors} tensors ({report.Bytes / 1e9:F2} GB): {report.Merged} merged, {report.CopiedFromA + report.OnlyInA.Count} copied from A{baked}{discarded}"));
            Console.WriteLine(report.Output);
            return 0;
        });
        return command;
    }

    private static MergeMode ParseMode(string? text, int models) => text?.ToLowerInvariant() switch
    {
        null => models == 3 ? MergeMode.AddDifference : MergeMode.WeightedSum,
        "weighted-sum" or "weighted_sum" or "ws" => MergeMode.WeightedSum,
        "add-difference" or "add_difference" or "ad" => MergeMode.AddDifference,
        _ => throw new ArgumentException($"--mode must be weighted-sum or add-difference, not '{text}'."),
    };

    private static MergeComponentSource ParseSource(string option, string text) => text.ToLowerInvariant() switch
    {
        "merge" => MergeComponentSource.Merge,
        "a" => MergeComponentSource.A,
        _ => throw new ArgumentException($"{option} must be merge or a, not '{text}'."),
    };

    private static double[] ParseWeights(string text) =>
    [
        .. text.Split(',', StringSplitOptions.TrimEntries).Select(w => double.TryParse(w, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new ArgumentException($"--block-weights: '{w}' is not a number; give comma-separated numbers such as 0,0.5,1,...")),
    ];
}
