using System.Diagnostics;
using SdTune.IO;
using SdTune.Training;
using SdTune.Tests.Training;

namespace SdTune.Tests.IO;

public sealed class StagingPathsTests
{
    /// <summary>The id of a process that has just ended (so no process of it runs).</summary>
    private static int DeadProcessId()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }

    private static string Guid32() => Guid.NewGuid().ToString("N");

    [Fact]
    public void Stale_staging_of_ended_processes_is_cleared_and_a_folder_moved_aside_is_put_back()
    {
        using var dir = TestPaths.NewTempDir();
        var dead = DeadProcessId();
        var staleFile = dir.File($".toy.safetensors.{dead}.{Guid32()}.tmp");
        var liveFile = dir.File($".toy.safetensors.{Environment.ProcessId}.{Guid32()}.tmp");
        var staleStaging = dir.File($".toy-step00000003-state.tmp-{dead}-{Guid32()}");
        var movedAside = dir.File($".pipeline.old-{dead}-{Guid32()}");
        var replacedOld = dir.File($".other.old-{dead}-{Guid32()}");
        File.WriteAllText(staleFile, "partial");
        File.WriteAllText(liveFile, "being written");
        Directory.CreateDirectory(staleStaging);
        File.WriteAllText(Path.Combine(staleStaging, "optimizer.safetensors"), "partial");
        Directory.CreateDirectory(movedAside);
        File.WriteAllText(Path.Combine(movedAside, "model_index.json"), "{}");
        Directory.CreateDirectory(replacedOld);
        Directory.CreateDirectory(dir.File("other"));
        File.WriteAllText(dir.File(".notes"), "a user's hidden file");

        var actions = StagingPaths.SweepStale(dir.Path);

        Assert.False(File.Exists(staleFile));
        Assert.True(File.Exists(liveFile));
        Assert.False(Directory.Exists(staleStaging));
        Assert.False(Directory.Exists(movedAside));
        Assert.Equal("{}", File.ReadAllText(dir.File(Path.Combine("pipeline", "model_index.json"))));
        Assert.False(Directory.Exists(replacedOld));
        Assert.True(Directory.Exists(dir.File("other")));
        Assert.True(File.Exists(dir.File(".notes")));
        Assert.Equal(4, actions.Count);
        Assert.Contains(actions, a => a.StartsWith("restored", StringComparison.Ordinal));
    }

    [Fact]
    public void Writers_name_their_staging_after_the_target_and_their_own_process()
    {
        using var dir = TestPaths.NewTempDir();
        var target = dir.File("model.safetensors");
        Assert.Matches($@"^\.model\.safetensors\.{Environment.ProcessId}\.[0-9a-f]{{32}}\.tmp$", Path.GetFileName(StagingPaths.File(target)));
        Assert.Matches($@"^\.model\.safetensors\.tmp-{Environment.ProcessId}-[0-9a-f]{{32}}$", Path.GetFileName(StagingPaths.Folder(target)));
        Assert.Equal(dir.Path, Path.GetDirectoryName(StagingPaths.OldFolder(target)));
    }

    [Fact]
    public void A_failed_atomic_write_leaves_nothing_behind()
    {
        using var dir = TestPaths.NewTempDir();
        var target = dir.File("result.bin");
        File.WriteAllText(target, "previous");
        Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(target, s =>
        {
            s.Write([1, 2, 3]);
            throw new InvalidOperationException("disk full");
        }));

        Assert.Equal("previous", File.ReadAllText(target));
        Assert.Equal(["result.bin"], Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void A_training_run_clears_what_a_killed_run_left_in_its_output_folder()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 1);
        var output = config.OutputDir!;
        Directory.CreateDirectory(output);
        var dead = DeadProcessId();
        var staleFile = Path.Combine(output, $".toy.safetensors.{dead}.{Guid32()}.tmp");
        var staleState = Path.Combine(output, $".toy-step00000002-state.tmp-{dead}-{Guid32()}");
        File.WriteAllText(staleFile, "partial");
        Directory.CreateDirectory(staleState);

        using var model = TrainingTestKit.TinyModel();
        var log = new List<string>();
        new Trainer(config, new TrainerServices { Model = model, Log = log.Add }).Run();

        Assert.False(File.Exists(staleFile));
        Assert.False(Directory.Exists(staleState));
        Assert.Contains(log, l => l.Contains("removed", StringComparison.Ordinal));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(output), e => Path.GetFileName(e).StartsWith('.'));
    }
}
