using SdTune.Checkpoints.SingleFile;

namespace SdTune.Tests.Checkpoints.SingleFile;

/// <summary>The name-level plans against the manifests of the real SD1.5 and SDXL checkpoints and diffusers models.</summary>
public class ConversionPlanManifestTests
{
    public static TheoryData<string, string> Models => new()
    {
        { "sd15.original.json", "sd15.original_to_diffusers.json" },
        { "sdxl_base.original.json", "sdxl_base.original_to_diffusers.json" },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Original_to_diffusers_plan_equals_every_reference_mapping_row(string original, string mapping)
    {
        var shapes = Manifests.Shapes(original);
        var plan = SingleFileConversionPlan.ToDiffusers(shapes, SingleFileInspector.Detect(shapes));

        var actual = plan.Rows.Select(r => Manifests.MappingLine(
            r.Sources.Single(), r.Target, Manifests.Label(r.Component), r.Describe(), r.SourceShapes[0], r.TargetShape));
        Manifests.AssertSameSet(Manifests.OracleMapping(mapping), actual, mapping);
        Assert.Empty(plan.Unknown);
        Assert.Equal(Manifests.OracleIgnored(mapping), plan.Ignored.Select(i => i.Name));
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Original_to_diffusers_plan_produces_every_diffusers_manifest_name_with_its_shape(string original, string mapping)
    {
        var shapes = Manifests.Shapes(original);
        var plan = SingleFileConversionPlan.ToDiffusers(shapes, SingleFileInspector.Detect(shapes));
        var targets = Manifests.Load(mapping)["targets"]!.AsObject();
        Assert.NotEmpty(targets);
        foreach (var (label, file) in targets)
        {
            var component = Enum.GetValues<SdComponent>().Single(c => Manifests.Label(c) == label);
            var expected = Manifests.Shapes(file!.GetValue<string>(), withOptional: true);
            var produced = plan.RowsOf(component).ToList();

            // The manifests list position_ids as optional; it is produced exactly where the original file has it.
            var expectedLines = expected.Where(e => !e.Key.EndsWith("position_ids", StringComparison.Ordinal) || produced.Any(r => r.Target == e.Key))
                .Select(e => e.Key + " " + Manifests.Format(e.Value));
            Manifests.AssertSameSet(expectedLines, produced.Select(r => r.Target + " " + Manifests.Format(r.TargetShape)), $"{mapping} {label}");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Diffusers_to_original_plan_reproduces_the_original_key_set_and_shapes(string original, string mapping)
    {
        var detection = SingleFileInspector.Detect(Manifests.Shapes(original));
        var components = new Dictionary<SdComponent, IReadOnlyDictionary<string, long[]>>();
        foreach (var (label, file) in Manifests.Load(mapping)["targets"]!.AsObject())
        {
            var component = Enum.GetValues<SdComponent>().Single(c => Manifests.Label(c) == label);
            components[component] = Manifests.Shapes(file!.GetValue<string>()); // without position_ids: it must be generated
        }

        var plan = SingleFileConversionPlan.ToOriginal(detection.Architecture, components);

        Assert.Empty(plan.Unknown);
        var expected = Manifests.Shapes(original).Select(e => e.Key + " " + Manifests.Format(e.Value));
        Manifests.AssertSameSet(expected, plan.Rows.Select(r => r.Target + " " + Manifests.Format(r.TargetShape)), original);

        // Exactly the tensors diffusers drops are generated; everything else comes from a diffusers tensor.
        var generated = plan.Rows.Where(r => r.Op == KeyConversionOp.Generate).Select(r => r.Target).ToHashSet();
        var expectedGenerated = Manifests.OracleIgnored(mapping).Concat(Manifests.Shapes(original).Keys.Where(k => k.EndsWith("position_ids", StringComparison.Ordinal)));
        Manifests.AssertSameSet(expectedGenerated, generated, "generated rows");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Reverse_rows_invert_the_forward_rows(string original, string mapping)
    {
        _ = mapping;
        var shapes = Manifests.Shapes(original);
        var detection = SingleFileInspector.Detect(shapes);
        var forward = SingleFileConversionPlan.ToDiffusers(shapes, detection);
        var components = forward.Rows.GroupBy(r => r.Component)
            .ToDictionary(g => g.Key, g => (IReadOnlyDictionary<string, long[]>)g.ToDictionary(r => r.Target, r => r.TargetShape.ToArray()));
        var reverse = SingleFileConversionPlan.ToOriginal(detection.Architecture, components);

        // original -> diffusers -> original: every converted original name comes back from the same diffusers name(s).
        var forwardPairs = forward.Rows.Select(r => $"{r.Sources[0]} <- {r.Target}").ToHashSet();
        foreach (var row in reverse.Rows.Where(r => r.Op != KeyConversionOp.Generate))
        {
            Assert.All(row.Sources, s => Assert.Contains($"{row.Target} <- {s}", forwardPairs));
        }

        var expectedOps = new Dictionary<KeyConversionOp, KeyConversionOp>
        {
            [KeyConversionOp.Rename] = KeyConversionOp.Rename, [KeyConversionOp.SplitRows] = KeyConversionOp.ConcatRows,
            [KeyConversionOp.Transpose] = KeyConversionOp.Transpose, [KeyConversionOp.ConvToLinear] = KeyConversionOp.LinearToConv,
        };
        var forwardOp = forward.Rows.GroupBy(r => r.Sources[0]).ToDictionary(g => g.Key, g => g.First().Op);
        Assert.All(reverse.Rows.Where(r => r.Op != KeyConversionOp.Generate), r => Assert.Equal(expectedOps[forwardOp[r.Target]], r.Op));
    }
}
