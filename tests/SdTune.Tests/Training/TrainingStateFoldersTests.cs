using SdTune.Training;

namespace SdTune.Tests.Training;

public sealed class TrainingStateFoldersTests
{
    [Fact]
    public void A_staging_folder_a_killed_process_left_is_not_a_state_to_resume_from()
    {
        using var output = TestPaths.NewTempDir();
        var staging = Directory.CreateDirectory(Path.Combine(output.Path, ".last-step00000002-state.tmp-999999-0123456789abcdef0123456789abcdef"));
        File.WriteAllText(Path.Combine(staging.FullName, TrainingState.CountersFile), "{\"global_step\": 2}");

        Assert.Null(TrainingStateFolders.Latest(output.Path));
    }
}
