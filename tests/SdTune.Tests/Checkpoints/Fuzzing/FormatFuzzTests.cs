using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints;
using SdTune.Checkpoints.Embeddings;
using SdTune.Checkpoints.Inspection;
using SdTune.Checkpoints.Pickle;
using SdTune.Checkpoints.Safetensors;
using SdTune.IO;
using SdTune.Tests.Adapters;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SdTune.Tests.Checkpoints.Fuzzing;

/// <summary>
/// 12,000 generated safetensors and pickle files through every reader that opens weight files: each loads or fails
/// with <see cref="CheckpointFormatException"/> naming the file (and, where the case knows, loads when the format
/// allows it, is rejected when the format forbids it, and names the refused global). The seed and case count are
/// printed; <see cref="FuzzRunner"/> says how to replay a failure.
/// </summary>
public sealed class FormatFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public void Grammar_aware_safetensors_cases_load_or_fail_with_a_format_error()
    {
        using var unet = AdapterTestModels.LoadTinyUNet();
        var targets = new LoraTargets(unet, null);

        // Entry point 3 (textual inversion) refuses valid files that are not embeddings: either outcome is right there.
        var (loaded, rejected) = FuzzRunner.Run(output, "safetensors", defaultSeed: 20250601, defaultCases: 8000,
            (random, i) => SafetensorsCases.Generate(random) is var c && i % 5 == 3 && c.Expectation == FuzzExpectation.Load ? c with { Expectation = FuzzExpectation.Either } : c,
            (path, i) => OpenSafetensors(path, i, targets));
        Assert.True(loaded > 1000 && rejected > 2000, $"{loaded} loaded, {rejected} rejected: the generator lost its balance");
    }

    [Fact]
    public void Mutated_pickles_of_every_protocol_load_or_fail_with_a_format_error()
    {
        var (loaded, rejected) = FuzzRunner.Run(output, "pickle", defaultSeed: 20250602, defaultCases: 4000,
            (random, _) => PickleCases.Generate(random), OpenPickle);
        Assert.True(loaded > 100 && rejected > 1000, $"{loaded} loaded, {rejected} rejected: the generator lost its balance");
    }

    private static void OpenSafetensors(string path, int index, LoraTargets targets)
    {
        using var scope = NewDisposeScope();

        // The LoRA reader matches names against every layer of a UNet (milliseconds a call): one case in 25.
        switch (index % 25 == 4 ? 4 : index % 5 % 4)
        {
            case 0:
                using (var file = SafetensorsFile.Open(path))
                {
                    foreach (var info in file.Tensors)
                    {
                        file.Read(info.Name);
                    }
                }

                break;
            case 1:
                ReadAll(path);
                break;
            case 2:
                ModelInspector.Inspect(path);
                break;
            case 3:
                TextualInversionFile.Load(path).Dispose();
                break;
            default:
                LoraFileReader.Read(path, targets).Network.Dispose();
                break;
        }
    }

    private static void OpenPickle(string path, int index)
    {
        using var scope = NewDisposeScope();
        switch (index % 5)
        {
            case 0:
                TorchPickleFile.Load(path);
                break;
            case 1:
                TorchCheckpointReader.ReadStateDict(path);
                break;
            case 2:
                ReadAll(path);
                break;
            case 3:
                ModelInspector.Inspect(path);
                break;
            default:
                TextualInversionFile.Load(path).Dispose();
                break;
        }
    }

    private static void ReadAll(string path)
    {
        using var source = TensorSources.Open(path);
        foreach (var entry in source.Entries)
        {
            source.Read(entry.Name);
        }
    }
}
