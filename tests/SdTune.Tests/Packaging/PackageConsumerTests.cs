using System.Reflection;
using System.Text.Json;
using SdTune.Tests.Cli;

namespace SdTune.Tests.Packaging;

/// <summary>
/// The library as a NuGet package: packed from this build, referenced from a local folder feed by a console project made
/// with <c>dotnet new</c> outside the repository (none of its build settings apply), built and run.
/// </summary>
public sealed class PackageConsumerTests
{
    private const string ConsumerProgram = """
        using SdTune.Checkpoints;
        using SdTune.Models;
        using SdTune.Pipelines;
        using SdTune.ToyWorld.Pretraining;
        using static TorchSharp.torch;

        // A full-size SDXL model without random initialisation: shapes only, then uninitialised memory.
        using (var sdxl = StableDiffusionModels.CreateEmpty(StableDiffusionPresets.SdxlBase, ScalarType.Float16))
        {
            var parameters = sdxl.Modules.Sum(m => m.parameters().Sum(p => p.numel()));
            Console.WriteLine($"sdxl {sdxl.Architecture} {parameters}");
        }

        // A small model generating a picture: libtorch, the tokenizer and the image natives all load.
        using var model = ToyBaseModel.Create(1);
        using var pipeline = new StableDiffusionPipeline(model);
        using var result = pipeline.Generate(new GenerationRequest { Prompt = "a red star", Steps = 2, Seed = 5 });
        Console.WriteLine($"image {result.Images[0].Image.Width}x{result.Images[0].Image.Height}");
        """;

    [Fact]
    public void PackedLibraryRunsFromAFreshConsumerProject()
    {
        var configuration = typeof(PackageConsumerTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        var version = "0.0.0-consumer." + Guid.NewGuid().ToString("N")[..12];
        using var temp = TestPaths.NewTempDir();
        var feed = Directory.CreateDirectory(Path.Combine(temp.Path, "feed")).FullName;
        var consumer = Path.Combine(temp.Path, "consumer");
        try
        {
            var project = Path.Combine(TestPaths.RepositoryRoot, "src", "SdTune", "SdTune.csproj");
            Dotnet("pack", project, "-c", configuration, "--no-build", "-o", feed, $"-p:PackageVersion={version}");
            Dotnet("new", "console", "-o", consumer, "--no-restore");
            File.WriteAllText(Path.Combine(consumer, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            Dotnet("add", consumer, "package", "SdTune", "--version", version, "--no-restore");
            File.WriteAllText(Path.Combine(consumer, "Program.cs"), ConsumerProgram);
            var build = Dotnet("build", consumer, "-c", "Release");
            Assert.Contains("Weakened GLIBCXX_3.4.32 requirement", build, StringComparison.Ordinal);

            var output = Dotnet("run", "--project", consumer, "-c", "Release", "--no-build");

            Assert.Matches(@"sdxl SdxlBase 3\d{9}\n", output); // about 3.5 billion parameters
            Assert.Contains("image 32x32", output, StringComparison.Ordinal);
        }
        finally
        {
            var cached = Path.Combine(GlobalPackagesFolder(), "sdtune", version);
            if (Directory.Exists(cached))
            {
                Directory.Delete(cached, recursive: true);
            }
        }
    }

    [Theory]
    [InlineData("cpu-linux", "SdTune", "libtorch-cpu-linux-x64")]
    [InlineData("cuda-linux", "SdTune-cuda-linux", "TorchSharp-cuda-linux")]
    public void TheTorchBackendPropertyChoosesThePackageAndItsLibtorchDependency(string backend, string packageId, string libtorch)
    {
        var project = Path.Combine(TestPaths.RepositoryRoot, "src", "SdTune", "SdTune.csproj");
        using var json = JsonDocument.Parse(Dotnet("msbuild", project, "-getProperty:PackageId", "-getItem:PackageReference", $"-p:SdTuneTorchBackend={backend}"));

        var references = json.RootElement.GetProperty("Items").GetProperty("PackageReference").EnumerateArray()
            .Select(item => item.GetProperty("Identity").GetString()).ToList();
        Assert.Equal(packageId, json.RootElement.GetProperty("Properties").GetProperty("PackageId").GetString());
        Assert.Contains("TorchSharp", references);
        Assert.Contains(libtorch, references);
        Assert.Single(references, r => r!.StartsWith("libtorch", StringComparison.Ordinal) || r.StartsWith("TorchSharp-", StringComparison.Ordinal));
    }

    private static string Dotnet(params string[] args)
    {
        // The test host's MSBuild variables would point a nested build at the host's SDK state; the consumer starts clean.
        var environment = Environment.GetEnvironmentVariables().Keys.Cast<string>()
            .Where(name => name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(name => name, _ => (string?)null);
        var (code, output, error) = CliProcess.Run("dotnet", args, environment);
        Assert.True(code == 0, $"dotnet {string.Join(' ', args)} failed ({code}):\n{output}\n{error}");
        return output;
    }

    private static string GlobalPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder
            ? folder
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
}
