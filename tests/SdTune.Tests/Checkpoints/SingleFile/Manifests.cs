using System.Text.Json;
using System.Text.Json.Nodes;
using SdTune.Checkpoints.SingleFile;

namespace SdTune.Tests.Checkpoints.SingleFile;

/// <summary>Reads the full-size model manifests (names, shapes, mapping rows) used as test oracles.</summary>
internal static class Manifests
{
    private static readonly Dictionary<string, JsonNode> Cache = [];

    public static JsonNode Load(string file)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(file, out var node))
            {
                node = JsonNode.Parse(File.ReadAllText(TestPaths.Manifest(file)))!;
                Cache[file] = node;
            }

            return node;
        }
    }

    /// <summary>Name → shape of a manifest's tensors, in manifest order (plus its optional tensors when asked).</summary>
    public static Dictionary<string, long[]> Shapes(string file, bool withOptional = false)
    {
        var node = Load(file);
        var result = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var t in node["tensors"]!.AsArray())
        {
            result.Add(t!["name"]!.GetValue<string>(), Shape(t["shape"]!));
        }

        if (withOptional && node["optional_tensors"] is JsonArray optional)
        {
            foreach (var t in optional)
            {
                result.Add(t!["name"]!.GetValue<string>(), Shape(t["shape"]!));
            }
        }

        return result;
    }

    public static long[] Shape(JsonNode node) => [.. node.AsArray().Select(d => d!.GetValue<long>())];

    public static string Label(SdComponent component) => component switch
    {
        SdComponent.Unet => "unet",
        SdComponent.Vae => "vae",
        SdComponent.TextEncoder => "text_encoder",
        SdComponent.TextEncoder2 => "text_encoder_2",
        _ => "other",
    };

    public static string Format(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>A mapping row as one comparable line.</summary>
    public static string MappingLine(string original, string diffusers, string component, string op, IEnumerable<long> originalShape, IEnumerable<long> diffusersShape) =>
        $"{component} | {original} -> {diffusers} | {op} | {Format(originalShape)} -> {Format(diffusersShape)}";

    public static List<string> OracleMapping(string file) =>
        [.. Load(file)["mapping"]!.AsArray().Select(r => MappingLine(
            r!["original"]!.GetValue<string>(), r["diffusers"]!.GetValue<string>(), r["component"]!.GetValue<string>(), r["op"]!.GetValue<string>(),
            Shape(r["original_shape"]!), Shape(r["diffusers_shape"]!)))];

    public static List<string> OracleIgnored(string file) =>
        [.. Load(file)["original_keys_not_converted"]!.AsArray().Select(r => r!["original"]!.GetValue<string>())];

    public static void AssertSameSet(IEnumerable<string> expected, IEnumerable<string> actual, string what)
    {
        var e = expected.ToHashSet(StringComparer.Ordinal);
        var a = actual.ToList();
        var duplicates = a.GroupBy(x => x).Where(g => g.Count() > 1).Select(g => g.Key).Take(5).ToList();
        Assert.True(duplicates.Count == 0, $"{what}: duplicated entries: {string.Join("; ", duplicates)}");
        var missing = e.Except(a).Take(10).ToList();
        var extra = a.Except(e).Take(10).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"{what}: {e.Except(a).Count()} missing, {a.Except(e).Count()} extra.\nmissing: {string.Join("\n  ", missing)}\nextra: {string.Join("\n  ", extra)}");
    }

    /// <summary>Compares two JSON values after a text round trip (so a built 320 equals a parsed 320).</summary>
    public static bool JsonEquals(JsonNode? a, JsonNode? b) =>
        JsonNode.DeepEquals(Reparse(a), Reparse(b));

    private static JsonNode? Reparse(JsonNode? node) => node is null ? null : JsonNode.Parse(node.ToJsonString());
}
