namespace SdTune.Tests;

/// <summary>Locates the repository's test data (reference fixtures and full-size model manifests).</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> Root = new(FindRepositoryRoot);

    /// <summary>The repository root (the folder holding SdTune.slnx).</summary>
    public static string RepositoryRoot => Root.Value;

    /// <summary>A file of the reference fixtures (tests/fixtures/reference).</summary>
    public static string Fixture(string name) => Path.Combine(Root.Value, "tests", "fixtures", "reference", name);

    /// <summary>A full-size model manifest (tests/fixtures/manifests).</summary>
    public static string Manifest(string name) => Path.Combine(Root.Value, "tests", "fixtures", "manifests", name);

    /// <summary>A fresh empty temporary folder, deleted when the returned handle is disposed.</summary>
    public static TempDir NewTempDir() => new();

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SdTune.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (SdTune.slnx) above " + AppContext.BaseDirectory);
    }
}

/// <summary>A temporary folder that deletes itself.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sdtune-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder is not a test failure.
        }
    }
}
