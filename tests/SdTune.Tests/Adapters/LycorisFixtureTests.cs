using System.Text.Json;
using SdTune.Adapters;
using SdTune.Checkpoints.Safetensors;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Tests.Adapters;

/// <summary>LoHa and LoKr weight deltas and forward outputs against LyCORIS (fixture §7).</summary>
public class LycorisFixtureTests
{
    private const double DeltaTolerance = 1e-5;
    private const double OutputTolerance = 2e-5;

    public static TheoryData<string> Cases()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("lycoris.cases.json")));
        var data = new TheoryData<string>();
        foreach (var c in json.RootElement.EnumerateObject())
        {
            data.Add(c.Name);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Delta_weight_and_output_match_lycoris(string name)
    {
        using var file = SafetensorsFile.Open(TestPaths.Fixture("lycoris.safetensors"));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var orgWeight = file.Read(name + ".org_weight");
        nn.Module<Tensor, Tensor> layer = orgWeight.dim() == 4
            ? nn.Conv2d(orgWeight.shape[1], orgWeight.shape[0], orgWeight.shape[2], padding: 1)
            : nn.Linear(orgWeight.shape[1], orgWeight.shape[0]);
        var (weight, bias) = layer is Conv2d c ? (c.weight, c.bias!) : (((Linear)layer).weight, ((Linear)layer).bias!);
        weight.copy_(orgWeight);
        bias.copy_(file.Read(name + ".org_bias"));

        var stored = file.Tensors.Select(t => t.Name).Where(n => n.StartsWith(name + ".", StringComparison.Ordinal))
            .Select(n => n[(name.Length + 1)..])
            .Where(k => k.StartsWith("hada_", StringComparison.Ordinal) || k.StartsWith("lokr_", StringComparison.Ordinal) || k == "alpha")
            .ToDictionary(k => k, k => file.Read(name + "." + k));
        var algorithm = AdapterAlgorithms.Detect(stored.Keys.ToHashSet());
        Assert.NotNull(algorithm);
        Assert.Equal(name.StartsWith("loha", StringComparison.Ordinal) ? "loha" : "lokr", algorithm.Name);

        using var module = algorithm.Load(AdaptedLayer.TryCreate(layer)!, stored, name);
        Assert.True(AdapterTestModels.MaxAbs(module.DeltaWeight(), file.Read(name + ".delta_weight")) <= DeltaTolerance);

        module.Attach();
        var output = layer.call(file.Read(name + ".input"));
        Assert.True(AdapterTestModels.MaxAbs(output, file.Read(name + ".output_with_lycoris")) <= OutputTolerance);
        module.Detach();
        Assert.True(AdapterTestModels.MaxAbs(layer.call(file.Read(name + ".input")), file.Read(name + ".output_org")) <= OutputTolerance);
    }

    [Theory]
    [InlineData(320, -1, 16, 20)]
    [InlineData(640, -1, 20, 32)]
    [InlineData(768, -1, 24, 32)]
    [InlineData(1280, -1, 32, 40)]
    [InlineData(2048, -1, 32, 64)]
    [InlineData(2560, -1, 40, 64)]
    [InlineData(5120, -1, 64, 80)]
    [InlineData(10240, -1, 80, 128)]
    [InlineData(320, 8, 8, 40)]
    [InlineData(1280, 8, 8, 160)]
    [InlineData(640, 16, 16, 40)]
    public void Lokr_factorization_matches_lycoris_examples(long dim, int factor, long m, long n) =>
        Assert.Equal((m, n), LoKrModule.Factorize(dim, factor));

    [Theory]
    [InlineData("loha", false)]
    [InlineData("loha", true)]
    [InlineData("lokr", false)]
    [InlineData("lokr", true)]
    public void Fresh_lycoris_modules_change_nothing_and_train(string algo, bool conv)
    {
        using var scope = NewDisposeScope();
        nn.Module<Tensor, Tensor> layer = conv ? nn.Conv2d(16, 32, 3, padding: 1) : nn.Linear(64, 96);
        var input = conv ? randn(2, 16, 6, 6) : randn(2, 5, 64);
        var settings = new AdapterSettings(4, 2, Arguments: new Dictionary<string, string> { ["use_tucker"] = "true", ["factor"] = "8" });
        using var module = AdapterAlgorithms.Get(algo).Create(AdaptedLayer.TryCreate(layer)!, settings);
        var before = layer.call(input).detach();
        module.Attach();
        var after = layer.call(input);
        Assert.Equal(0.0, AdapterTestModels.MaxAbs(before, after));

        // One gradient step on the adapter's parameters moves the output: the zero factor receives a gradient.
        after.square().sum().backward();
        using (no_grad())
        {
            foreach (var p in module.parameters())
            {
                Assert.NotNull(p.grad);
                p.sub_(p.grad! * 0.01);
            }
        }

        Assert.True(AdapterTestModels.MaxAbs(before, layer.call(input)) > 1e-6);
    }
}
