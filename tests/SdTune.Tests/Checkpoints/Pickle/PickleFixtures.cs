namespace SdTune.Tests.Checkpoints.Pickle;

/// <summary>Golden files written by torch.save (tests/fixtures/pickle/generate.py documents how).</summary>
internal static class PickleFixtures
{
    public static string Path(string name) => System.IO.Path.Combine(TestPaths.RepositoryRoot, "tests", "fixtures", "pickle", name);

    /// <summary>Pickles of every protocol written by Python's pickler (tests/fixtures/pickle/protocols/generate.py).</summary>
    public static string Protocol(string name) => System.IO.Path.Combine(TestPaths.RepositoryRoot, "tests", "fixtures", "pickle", "protocols", name);
}
