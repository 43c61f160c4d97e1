using System.Text.Json;

namespace SdTune.Tests.Text;

/// <summary>One case of the reference fixture clip_tokenizer_cases.json (openai/CLIP SimpleTokenizer, identity ftfy).</summary>
internal sealed record ClipTokenizerCase(string Text, int[] Ids, string[] BpeTokens);

/// <summary>The reference tokenizer fixture, parsed once.</summary>
internal static class ClipTokenizerCases
{
    private static readonly Lazy<Fixture> Loaded = new(Load);

    public static IReadOnlyList<ClipTokenizerCase> All => Loaded.Value.Cases;

    public static int StartOfTextId => Loaded.Value.StartOfTextId;

    public static int EndOfTextId => Loaded.Value.EndOfTextId;

    public static int VocabSize => Loaded.Value.VocabSize;

    /// <summary>The case with exactly this text.</summary>
    public static ClipTokenizerCase ByText(string text) => All.Single(c => c.Text == text);

    /// <summary>xunit rows: the case index and (for a readable test name) its text.</summary>
    public static TheoryData<int, string> Indices()
    {
        var data = new TheoryData<int, string>();
        for (var k = 0; k < All.Count; k++)
        {
            data.Add(k, All[k].Text);
        }

        return data;
    }

    private sealed record Fixture(IReadOnlyList<ClipTokenizerCase> Cases, int StartOfTextId, int EndOfTextId, int VocabSize);

    private static Fixture Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(TestPaths.Fixture("clip_tokenizer_cases.json")));
        var root = doc.RootElement;
        var cases = root.GetProperty("cases").EnumerateArray()
            .Select(c => new ClipTokenizerCase(
                c.GetProperty("text").GetString()!,
                c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
                c.GetProperty("bpe_tokens").EnumerateArray().Select(e => e.GetString()!).ToArray()))
            .ToList();
        return new Fixture(cases, root.GetProperty("start_of_text_id").GetInt32(), root.GetProperty("end_of_text_id").GetInt32(), root.GetProperty("vocab_size").GetInt32());
    }
}
