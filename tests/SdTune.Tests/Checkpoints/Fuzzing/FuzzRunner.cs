using System.Diagnostics;
using System.Globalization;
using SdTune.IO;
using Xunit.Abstractions;

namespace SdTune.Tests.Checkpoints.Fuzzing;

/// <summary>
/// Runs generated inputs through a reader: every case must load, or throw <see cref="CheckpointFormatException"/>
/// naming the file — any other exception, a case that runs for seconds, a large allocation or a hang fails the test
/// with the seed and case index that replay it. Case <c>i</c> of seed <c>s</c> is generated from its own random
/// stream, so one case replays alone: <c>SDTUNE_FUZZ_SEED=s SDTUNE_FUZZ_CASE=i dotnet test --filter ...</c>.
/// <c>SDTUNE_FUZZ_SEED=random</c> draws a fresh seed (printed); <c>SDTUNE_FUZZ_CASES=N</c> runs N cases.
/// </summary>
internal static class FuzzRunner
{
    private const long MaxManagedBytesPerCase = 64L << 20;
    private static readonly TimeSpan MaxCaseTime = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Watchdog = TimeSpan.FromMinutes(3);

    /// <summary>Runs the cases; returns how many loaded and how many were rejected.</summary>
    /// <param name="output">Receives the seed, case count, outcome counts and time.</param>
    /// <param name="name">The reader under test, for messages.</param>
    /// <param name="defaultSeed">The seed CI runs (a fixed corpus, so a passing run stays passing).</param>
    /// <param name="defaultCases">The case count CI runs.</param>
    /// <param name="generate">Makes case <c>i</c> from its random stream.</param>
    /// <param name="open">Opens one file; the case index picks among entry points.</param>
    public static (int Loaded, int Rejected) Run(ITestOutputHelper output, string name, int defaultSeed, int defaultCases,
        Func<Random, int, FuzzCase> generate, Action<string, int> open)
    {
        var seed = SeedFromEnvironment(defaultSeed);
        var cases = int.TryParse(Environment.GetEnvironmentVariable("SDTUNE_FUZZ_CASES"), CultureInfo.InvariantCulture, out var n) ? n : defaultCases;
        var only = int.TryParse(Environment.GetEnvironmentVariable("SDTUNE_FUZZ_CASE"), CultureInfo.InvariantCulture, out var single) ? single : (int?)null;
        var replay = $"replay with SDTUNE_FUZZ_SEED={seed}";

        using var dir = TestPaths.NewTempDir();
        var current = -1;
        string? failure = null;
        int loaded = 0, rejected = 0;
        var clock = Stopwatch.StartNew();
        var worker = Task.Run(() =>
        {
            for (var i = only ?? 0; i < (only + 1 ?? cases) && failure is null; i++)
            {
                Volatile.Write(ref current, i);
                FuzzCase fuzzCase;
                try
                {
                    fuzzCase = generate(new Random(CaseSeed(seed, i)), i);
                }
                catch (Exception e)
                {
                    failure = $"{name} case {i}: the generator threw {e}; {replay} SDTUNE_FUZZ_CASE={i}";
                    break;
                }

                var path = dir.File($"case-{i % 4}.bin");
                Overwrite(path, fuzzCase.Bytes);
                var allocated = GC.GetAllocatedBytesForCurrentThread();
                var started = Stopwatch.GetTimestamp();
                var outcome = Outcome(path, i, fuzzCase, open, ref loaded, ref rejected);
                var took = Stopwatch.GetElapsedTime(started);
                var bytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
                outcome ??= took > MaxCaseTime ? $"took {took.TotalSeconds:F1} s"
                    : bytes > MaxManagedBytesPerCase ? $"allocated {bytes >> 20} MB for a {fuzzCase.Bytes.Length}-byte file"
                    : null;
                if (outcome is not null)
                {
                    failure = $"{name} case {i} ({fuzzCase.Description}): {outcome}; {replay} SDTUNE_FUZZ_CASE={i}";
                }
            }
        });

        if (!worker.Wait(Watchdog))
        {
            Assert.Fail($"{name} case {Volatile.Read(ref current)} did not finish within {Watchdog.TotalMinutes} minutes (hang?); {replay} SDTUNE_FUZZ_CASE={Volatile.Read(ref current)}");
        }

        output.WriteLine($"{name} fuzz: seed {seed}, {(only is null ? cases : 1)} cases: {loaded} loaded, {rejected} rejected with a format error, {clock.Elapsed.TotalSeconds:F1} s ({replay}).");
        Assert.True(failure is null, failure);
        return (loaded, rejected);
    }

    private static string? Outcome(string path, int index, FuzzCase fuzzCase, Action<string, int> open, ref int loaded, ref int rejected)
    {
        try
        {
            open(path, index);
            loaded++;
            return fuzzCase.Expectation == FuzzExpectation.Reject ? "loaded, but the format forbids it" : null;
        }
        catch (CheckpointFormatException e)
        {
            rejected++;
            return fuzzCase.Expectation == FuzzExpectation.Load ? $"rejected a valid file: {e.Message}"
                : !e.Message.StartsWith(path, StringComparison.Ordinal) ? $"the message does not start with the file: {e.Message}"
                : fuzzCase.MustName is { } text && !e.Message.Contains(text, StringComparison.Ordinal) ? $"the message does not name {text}: {e.Message}"
                : null;
        }
        catch (Exception e)
        {
            return $"threw {e.GetType().Name}: {e.Message}\n{e.StackTrace}";
        }
    }

    // Rewriting in place is ~20x faster than File.WriteAllBytes here: truncating a file (freeing its blocks) is slow
    // on file systems mounted with online discard.
    private static void Overwrite(string path, byte[] bytes)
    {
        using var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None);
        file.Write(bytes);
        file.SetLength(bytes.Length);
    }

    private static int SeedFromEnvironment(int defaultSeed)
    {
        var text = Environment.GetEnvironmentVariable("SDTUNE_FUZZ_SEED");
        return text == "random" ? Random.Shared.Next() : int.TryParse(text, CultureInfo.InvariantCulture, out var seed) ? seed : defaultSeed;
    }

    // SplitMix64 of (seed, index): independent, reproducible streams per case.
    private static int CaseSeed(int seed, int index)
    {
        var z = ((ulong)(uint)seed << 32 | (uint)index) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return (int)(z ^ (z >> 31));
    }
}
