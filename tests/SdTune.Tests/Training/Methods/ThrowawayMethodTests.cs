using SdTune.Checkpoints;
using SdTune.Tests.Cli;
using SdTune.ToyWorld;
using SdTune.ToyWorld.Benchmark;
using SdTune.Training;
using SdTune.Training.Methods;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Methods;

/// <summary>
/// A training method declared in the test project alone (<see cref="BitFitMethod"/>: one file, registered here with one
/// line) is configured from TOML, overrides and its generated flags, validated, trained, saved and benchmarked, with no
/// change to the library.
/// </summary>
public sealed class ThrowawayMethodTests : IDisposable
{
    // The one registration line, scoped to each test so other tests see the built-in methods only.
    private readonly IDisposable registration = TrainingMethods.Register(BitFitMethod.Definition);

    public void Dispose() => registration.Dispose();

    [Fact]
    public void Registering_adds_the_method_and_disposing_the_registration_removes_it()
    {
        Assert.Contains(BitFitMethod.Definition, TrainingMethods.All);
        Assert.Contains(TrainingConfigKeys.All, k => k.Name == "bitfit_scope");
        using (TrainingMethods.Register(BitFitMethod.Definition))
        {
            // Already registered: this registration removes nothing.
        }

        Assert.Contains(BitFitMethod.Definition, TrainingMethods.All);
        registration.Dispose();
        Assert.DoesNotContain(BitFitMethod.Definition, TrainingMethods.All);
        Assert.DoesNotContain(TrainingConfigKeys.All, k => k.Name == "bitfit_scope");
        Assert.Throws<TrainingConfigException>(() => TrainingConfig.Parse("bitfit_scope = \"all\""));
    }

    [Fact]
    public void Its_keys_are_read_from_toml_and_overrides_checked_against_its_declaration_and_written_back()
    {
        var config = TrainingConfig.Parse("method = \"bitfit\"\npretrained_model = \"m\"\noutput_dir = \"o\"\ntrain_data_dir = \"d\"\nmax_train_steps = 2\nbitfit_scope = \"attention\"\n")
            .WithOverrides(["bitfit_lr_scale=2.5"]);
        config.Validate();
        Assert.Equal("attention", BitFitMethod.Scope.Value(config));
        Assert.Equal(2.5, BitFitMethod.LrScale.Value(config));
        Assert.Equal(1.0, BitFitMethod.LrScale.Value(new TrainingConfig()));

        var back = TrainingConfig.Parse(config.ToToml());
        Assert.Equal(config.MethodOptions, back.MethodOptions);
        Assert.Equal(config.ToToml(), back.ToToml());

        var range = Assert.Throws<TrainingConfigException>(() => config.WithOverrides(["bitfit_lr_scale=0"]).Validate());
        Assert.Equal("bitfit_lr_scale", range.Key);
        var rule = Assert.Throws<TrainingConfigException>(() => config.WithOverrides(["bitfit_scope=everything"]).Validate());
        Assert.Equal("bitfit_scope", rule.Key);
        var typo = Assert.Throws<TrainingConfigException>(() => config.WithOverrides(["bitfit_scop=all"]));
        Assert.Contains("bitfit_scope", typo.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Its_keys_apply_to_it_alone_in_the_resolved_configuration()
    {
        using var dir = TestPaths.NewTempDir();
        using var model = TrainingTestKit.TinyModel();
        var lora = TrainingTestKit.LoraConfig(dir.Path).With(BitFitMethod.Scope, "attention");
        Assert.Contains("# bitfit_scope = \"attention\"  (applies to bitfit)", lora.Resolve(model).ToToml(), StringComparison.Ordinal);

        var bitfit = lora.With(SdTune.Training.Methods.LoraMethod.NetworkDim, 8) with { Method = "bitfit" };
        var toml = bitfit.Resolve(model).ToToml();
        Assert.Contains("\nbitfit_scope = \"attention\"\n", toml, StringComparison.Ordinal);
        Assert.Contains("# network_dim = 8  (applies to lora and pivotal)", toml, StringComparison.Ordinal);
    }

    [Fact]
    public void The_train_command_offers_its_keys_as_flags()
    {
        using var dir = TestPaths.NewTempDir();
        var model = GenerateCommandTests.TinyPipelineFolder(dir);
        var data = Path.GetDirectoryName(TrainingTestKit.Images(Path.Combine(dir.Path, "data", "2_toy"), 2, "a toy"))!;
        var (code, output, error) = InspectCommandTests.Run("train", "bitfit", "--model", model, "--train-data-dir", data, "--output-dir", dir.File("out"),
            "--bitfit-scope", "attention", "--bitfit-lr-scale", "3", "--max-train-steps", "5", "--dry-run");
        Assert.True(code == 0, error);
        Assert.Contains("method = \"bitfit\"", output, StringComparison.Ordinal);
        Assert.Contains("bitfit_scope = \"attention\"", output, StringComparison.Ordinal);
        Assert.Contains("bitfit_lr_scale = 3.0", output, StringComparison.Ordinal);

        var (wrong, _, wrongError) = InspectCommandTests.Run("train", "lora", "--model", model, "--bitfit-scope", "all", "--dry-run");
        Assert.Equal(2, wrong);
        Assert.Contains("--bitfit-scope", wrongError, StringComparison.Ordinal);
    }

    [Fact]
    public void It_trains_only_what_it_declares_and_saves_a_model_that_loads()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 3).With(BitFitMethod.Scope, "all") with { Method = "bitfit", LearningRate = 1e-2 };
        using var model = TrainingTestKit.TinyModel();
        var before = model.Unet.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        var result = new Trainer(config, new TrainerServices { Model = model }).Run();

        Assert.Equal(3, result.Steps);
        Assert.All(result.LossHistory, loss => Assert.True(double.IsFinite(loss)));
        var output = Assert.Single(result.Outputs);
        using var saved = DiffusersPipelineFormat.Load(output);
        var after = saved.Unet.state_dict();
        var changed = before.Where(kv => !kv.Value.allclose(after[kv.Key], rtol: 0, atol: 0)).Select(kv => kv.Key).ToList();
        Assert.NotEmpty(changed);
        Assert.All(changed, name => Assert.EndsWith(".bias", name, StringComparison.Ordinal));
        foreach (var tensor in before.Values)
        {
            tensor.Dispose();
        }
    }

    [Fact]
    public void The_concept_benchmark_runs_its_row()
    {
        using var dir = TestPaths.NewTempDir();
        var options = new BenchmarkOptions
        {
            BaseModel = Path.Combine(TestPaths.RepositoryRoot, "toyworld", "base-model"),
            Spec = BenchmarkSpec.Load(Path.Combine(TestPaths.RepositoryRoot, "toyworld", "benchmark.toml")),
            OutputDirectory = dir.Path,
            Methods = [BenchmarkMethods.Get("bitfit")],
            Steps = 2,
            SamplingSteps = 2,
            Seeds = 2,
        };

        var rows = MethodBenchmark.Run(options);
        Assert.Equal([MethodBenchmark.BaseRow, "bitfit"], rows.Select(r => r.Method));
        Assert.All(rows, r => Assert.Equal(2, r.Rounds.Count));
        Assert.True(rows[1].Mean.OutputBytes > 0);
        Assert.True(File.Exists(rows[1].Grid));
        Assert.True(File.Exists(rows[1].Rounds[1].Grid));
        Assert.NotEqual(rows[1].Rounds[0].Grid, rows[1].Rounds[1].Grid);
        Assert.True(Directory.Exists(Path.Combine(dir.Path, "bitfit-seed2")));
        Assert.Contains("| bitfit |", MethodBenchmark.ToMarkdown(rows), StringComparison.Ordinal);
        Assert.Contains(" ± ", MethodBenchmark.ToMarkdown(rows), StringComparison.Ordinal);
    }
}
