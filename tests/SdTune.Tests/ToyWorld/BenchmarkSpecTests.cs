using SdTune.ToyWorld;

namespace SdTune.Tests.ToyWorld;

public class BenchmarkSpecTests
{
    /// <summary>A spec with one instance picture and one evaluation placement, everything else at its default.</summary>
    internal const string Minimal = """
        identifier = "sks"
        class_word = "star"
        [subject]
        name = "striped star"
        shape = "star"
        color = "red"
        pattern = "striped"
        second_color = "yellow"
        [[instances]]
        background = "blue"
        size = "large"
        position = "center"
        [[evaluation]]
        background = "white"
        size = "medium"
        position = "top left"
        """;

    private static string DefaultSpecPath => Path.Combine(TestPaths.RepositoryRoot, "toyworld", "benchmark.toml");

    [Fact]
    public void The_default_spec_in_the_repository_loads()
    {
        var spec = BenchmarkSpec.Load(DefaultSpecPath);
        Assert.Equal(new ToySubject("striped star", ToyShape.Star, ToyColor.Red, ToyPattern.Striped, ToyColor.Yellow), spec.Subject);
        Assert.Equal("sks", spec.Identifier);
        Assert.Equal("star", spec.ClassWord);
        Assert.Equal(32, spec.ImageSize);
        Assert.Equal(5, spec.Instances.Count);
        Assert.Equal(new ToyPlacement(ToyColor.Blue, ToySize.Large, ToyPosition.Center), spec.Instances[0]);
        Assert.Equal("a sks star on a blue background, center", spec.InstanceImages()[0].Caption);
        Assert.Equal("a large sks star on a white background, center", spec.EvaluationPrompts()[0].Text);
        // Class prompts name a colour that is neither the subject's (red, yellow) nor the background, in turn.
        var classPrompts = spec.ClassPrompts();
        Assert.Equal("a large blue star on a black background, top right", classPrompts[1].Text);
        Assert.Equal(ToyColor.Blue, classPrompts[1].ClassColor);
        Assert.All(classPrompts, p => Assert.DoesNotContain(p.ClassColor, new ToyColor?[] { ToyColor.Red, ToyColor.Yellow, p.Placement.Background }));
        Assert.True(classPrompts.Select(p => p.ClassColor).Distinct().Count() > 3);
    }

    [Fact]
    public void The_default_spec_lists_every_method_with_its_settings()
    {
        var spec = BenchmarkSpec.Load(DefaultSpecPath);
        Assert.Equal(SdTune.ToyWorld.Benchmark.BenchmarkMethods.All.Select(m => m.Name), spec.Methods.Select(m => m.Name));
        var rows = SdTune.ToyWorld.Benchmark.BenchmarkMethods.For(spec);
        var shared = new SdTune.Training.TrainingConfig { PretrainedModel = "base", OutputDir = "out", DatasetConfig = "dataset.toml", MaxTrainSteps = 300 };
        var subject = new SdTune.Training.BenchmarkSubject(spec.Identifier, spec.ClassWord);
        foreach (var row in rows)
        {
            row.Configure(shared, subject).Validate();
        }

        var locon = SdTune.ToyWorld.Benchmark.BenchmarkMethods.Get("locon", rows).Configure(shared, subject);
        Assert.Equal(("lora", 8, 1.5e-3, 150), (locon.Method, SdTune.Training.Methods.LoraMethod.NetworkDim.Value(locon), locon.LearningRate, locon.MaxTrainSteps));
        Assert.Equal(["conv_dim=8", "conv_alpha=8"], SdTune.Training.Methods.LoraMethod.NetworkArgs.Value(locon));
        var ti = SdTune.ToyWorld.Benchmark.BenchmarkMethods.Get("textual-inversion", rows).Configure(shared, subject);
        Assert.Equal(("sks", "star", "sks"), (SdTune.Training.Methods.TextualInversionMethod.TokenString.Value(ti), SdTune.Training.Methods.TextualInversionMethod.InitWord.Value(ti), ti.OutputName));
        Assert.Equal(40, SdTune.ToyWorld.Benchmark.BenchmarkMethods.Get("dreambooth-prior", rows).ClassImages);

        // A spec without rows runs the methods' own default rows.
        Assert.Same(SdTune.ToyWorld.Benchmark.BenchmarkMethods.All, SdTune.ToyWorld.Benchmark.BenchmarkMethods.For(BenchmarkSpec.Parse(Minimal, "minimal.toml")));
    }

    [Fact]
    public void A_spec_can_take_its_rows_from_another_so_two_subjects_share_one_set_of_tuned_rows()
    {
        var solid = BenchmarkSpec.Load(Path.Combine(TestPaths.RepositoryRoot, "toyworld", "benchmark-solid.toml"));
        var shared = BenchmarkSpec.Load(DefaultSpecPath);
        Assert.Equal(ToyColor.Purple, solid.Subject.Color);
        Assert.Equal(shared.Methods.Select(m => (m.Name, string.Join(";", m.Settings))), solid.Methods.Select(m => (m.Name, string.Join(";", m.Settings))));

        using var dir = TestPaths.NewTempDir();
        File.WriteAllText(dir.File("rows.toml"), Minimal + "\n[[methods]]\nname = \"r\"\nmethod = \"lora\"\n");
        File.WriteAllText(dir.File("empty.toml"), Minimal);
        File.WriteAllText(dir.File("chain.toml"), "methods_from = \"rows.toml\"\n" + Minimal);
        Assert.Equal(["r"], BenchmarkSpec.Parse("methods_from = \"rows.toml\"\n" + Minimal, "a.toml", dir.Path).Methods.Select(m => m.Name));
        foreach (var (text, expected) in new[]
        {
            ("methods_from = \"missing.toml\"\n" + Minimal, "which does not exist"),
            ("methods_from = \"empty.toml\"\n" + Minimal, "which has no [[methods]] of its own"),
            ("methods_from = \"chain.toml\"\n" + Minimal, "takes its rows from another spec in turn"),
            ("methods_from = \"rows.toml\"\n" + Minimal + "\n[[methods]]\nname = \"x\"\nmethod = \"lora\"\n", "cannot be combined with [[methods]]"),
        })
        {
            var e = Assert.Throws<ToySpecException>(() => BenchmarkSpec.Parse(text, "a.toml", dir.Path));
            Assert.Contains("key 'methods_from'", e.Message, StringComparison.Ordinal);
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("name = \"x\"\nmethod = \"lorax\"", "key 'method' is \"lorax\"; known methods: lora")]
    [InlineData("name = \"x\"\nmethod = \"lora\"\nsettings = { network_dim = 0 }", "[[methods]] #1: key 'settings' do not make a valid lora configuration")]
    [InlineData("name = \"x\"\nmethod = \"lora\"\nsettings = { netwrok_dim = 4 }", "netwrok_dim")]
    [InlineData("name = \"two words\"", "key 'name' must be one word")]
    [InlineData("name = \"lora\"\n[[methods]]\nname = \"LoRA\"\nmethod = \"lora\"", "two [[methods]] are named")]
    public void Invalid_method_rows_fail_naming_the_field(string row, string expected)
    {
        var e = Assert.Throws<ToySpecException>(() => BenchmarkSpec.Parse(Minimal + "\n[[methods]]\n" + row, "bench.toml"));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_subject_instances_are_read_back_as_the_subject()
    {
        var spec = BenchmarkSpec.Load(DefaultSpecPath);
        var evaluator = new ToyEvaluator(spec.ImageSize);
        var generator = new ToyWorldGenerator(spec.ImageSize, spec.Seed);
        foreach (var (scene, _) in spec.InstanceImages())
        {
            using var image = generator.Render(scene);
            var reading = evaluator.Read(image);
            Assert.True(reading.Matches(scene).All, $"{scene} read as {reading}");
            Assert.True(ToyMetrics.ShowsSubject(reading, spec.Subject));
        }
    }

    [Theory]
    [InlineData("shape = \"star\"", "shape = \"hexagon\"", "[subject]: key 'shape' is \"hexagon\"")]
    [InlineData("second_color = \"yellow\"", "", "key 'second_color' is required for a striped subject")]
    [InlineData("pattern = \"striped\"", "pattern = \"solid\"", "key 'second_color' must be left out")]
    [InlineData("identifier = \"sks\"", "identifier = \"two words\"", "key 'identifier' must be one non-empty word")]
    [InlineData("class_word = \"star\"", "class_word = \"star\"\ninstance_count = 5", "key 'instance_count' is 5 but there are 1 [[instances]]")]
    [InlineData("background = \"blue\"", "background = \"red\"", "[[instances]] #1: key 'background' is red, a colour of the subject")]
    [InlineData("position = \"center\"", "position = \"middle\"", "[[instances]] #1: key 'position' is \"middle\"")]
    [InlineData("size = \"medium\"", "size = 3", "[[evaluation]] #1: key 'size' must be a string")]
    [InlineData("class_word = \"star\"", "class_word = \"star\"\nclass_prompt = \"a {identifier} {class}\"", "key 'class_prompt' must not contain {identifier}")]
    [InlineData("class_word = \"star\"", "class_word = \"star\"\nevaluation_prompt = \"a {identifier} {colour}\"", "key 'evaluation_prompt' uses unknown placeholder {colour}")]
    [InlineData("class_word = \"star\"", "class_word = \"star\"\nevaluation_prompt = \"a {color} {identifier}\"", "key 'evaluation_prompt' must not contain {color}")]
    [InlineData("class_word = \"star\"", "class_word = \"star\"\nimage_size = 8", "key 'image_size' must be an integer in [16, 1024]")]
    [InlineData("class_word = \"star\"", "class_word = \"star\"\nsubjects = 1", "unknown key 'subjects'")]
    [InlineData("identifier = \"sks\"", "", "key 'identifier' is required")]
    public void Invalid_specs_fail_naming_the_file_and_field(string find, string replace, string expected)
    {
        var toml = Minimal.Replace(find, replace, StringComparison.Ordinal);
        Assert.NotEqual(Minimal, toml);
        var e = Assert.Throws<ToySpecException>(() => BenchmarkSpec.Parse(toml, "bench.toml"));
        Assert.StartsWith("bench.toml: ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_sections_and_files_are_reported()
    {
        Assert.Contains("no [[evaluation]]", Assert.Throws<ToySpecException>(() => BenchmarkSpec.Parse(Minimal[..Minimal.IndexOf("[[evaluation]]", StringComparison.Ordinal)], "b.toml")).Message, StringComparison.Ordinal);
        Assert.Contains("table [subject] is required", Assert.Throws<ToySpecException>(() => BenchmarkSpec.Parse("identifier = \"sks\"\nclass_word = \"star\"", "b.toml")).Message, StringComparison.Ordinal);
        Assert.Contains("invalid TOML", Assert.Throws<ToySpecException>(() => BenchmarkSpec.Parse("identifier = ", "b.toml")).Message, StringComparison.Ordinal);
        using var dir = TestPaths.NewTempDir();
        var missing = dir.File("absent.toml");
        Assert.Contains(missing, Assert.Throws<ToySpecException>(() => BenchmarkSpec.Load(missing)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_subject_file_loads_on_its_own()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("subject.toml");
        File.WriteAllText(path, "name = \"two-tone heart\"\nshape = \"heart\"\ncolor = \"blue\"\npattern = \"halves\"\nsecond_color = \"white\"\n");
        var subject = ToySubjectSpec.Load(path);
        Assert.Equal(new ToySubject("two-tone heart", ToyShape.Heart, ToyColor.Blue, ToyPattern.Halves, ToyColor.White), subject);
        Assert.Equal("half blue half white heart", subject.Description);
        Assert.Throws<ArgumentException>(() => subject.Place(new ToyPlacement(ToyColor.White, ToySize.Large, ToyPosition.Center)));

        File.WriteAllText(path, "name = \"x\"\nshape = \"heart\"\ncolor = \"blue\"\npattern = \"halves\"\nsecond_color = \"blue\"\n");
        var e = Assert.Throws<ToySpecException>(() => ToySubjectSpec.Load(path));
        Assert.Contains("key 'second_color' must differ from 'color'", e.Message, StringComparison.Ordinal);
    }
}
