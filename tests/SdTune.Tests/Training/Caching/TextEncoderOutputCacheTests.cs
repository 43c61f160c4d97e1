using SdTune.Tests.Models.Clip;
using SdTune.Training.Caching;
using static TorchSharp.torch;

namespace SdTune.Tests.Training.Caching;

public sealed class TextEncoderOutputCacheTests
{
    [Fact]
    public void Captions_are_encoded_once_and_returned_as_independent_copies()
    {
        using var clip = ClipTextFixture.LoadModel();
        var fingerprint = ModelFingerprint.Compute(clip, clip.Config.ToJson());
        var calls = 0;
        Tensor[] Encode(string caption)
        {
            calls++;
            return [clip.Encode(Ids(caption), clipSkip: 2)];
        }

        using var cache = new TextEncoderOutputCache("tokenizer-1", fingerprint, 2, Encode);
        using var scope = NewDisposeScope();
        var first = cache.Get("a photo of sks dog");
        first[0].add_(1);
        var second = cache.Get("a photo of sks dog");
        var other = cache.Get("a photo of a cat");

        Assert.Equal((2, 1, 2, 2), (cache.Misses, cache.Hits, calls, cache.Count));
        using (no_grad())
        {
            var expected = clip.Encode(Ids("a photo of sks dog"), clipSkip: 2);
            Assert.True(second[0].equal(expected).all().item<bool>());
            Assert.False(second[0].requires_grad);
        }

        Assert.True((other[0] - second[0]).abs().max().item<float>() > 1e-4);
    }

    [Fact]
    public void Every_key_part_changes_the_key()
    {
        static Tensor[] Encode(string caption) => [zeros(1)];
        using var a = new TextEncoderOutputCache("tok", "te", 1, Encode);
        using var b = new TextEncoderOutputCache("tok2", "te", 1, Encode);
        using var c = new TextEncoderOutputCache("tok", "te2", 1, Encode);
        using var d = new TextEncoderOutputCache("tok", "te", 2, Encode);
        string[] keys = [a.KeyFor("x"), a.KeyFor("y"), b.KeyFor("x"), c.KeyFor("x"), d.KeyFor("x")];
        Assert.Equal(keys.Length, keys.Distinct().Count());
        Assert.Equal(a.KeyFor("x"), new TextEncoderOutputCache("tok", "te", 1, Encode).KeyFor("x"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TextEncoderOutputCache("tok", "te", 0, Encode));
    }

    private static Tensor Ids(string caption)
    {
        // A stand-in tokenizer: one id per character between start and end tokens, padded to 16.
        var ids = new long[16];
        ids[0] = 49406;
        var i = 1;
        foreach (var ch in caption.Take(14))
        {
            ids[i++] = 200 + (ch % 300);
        }

        for (; i < ids.Length; i++)
        {
            ids[i] = 49407;
        }

        return tensor(ids).unsqueeze(0);
    }
}
