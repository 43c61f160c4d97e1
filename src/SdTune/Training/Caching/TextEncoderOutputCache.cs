using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;

namespace SdTune.Training.Caching;

/// <summary>
/// Caches text-encoder outputs per caption in memory, for training with frozen text encoders. An entry is keyed by
/// the tokenizer's and text encoder's identities, the clip skip and the caption text, so captions that change per step
/// (shuffling, dropout, wildcards) stay correct and merely miss more. Do not use it while a text encoder (or an adapter
/// on it) is being trained: its outputs change every step.
/// </summary>
/// <remarks>Not thread-safe.</remarks>
public sealed class TextEncoderOutputCache : IDisposable
{
    private readonly Func<string, Tensor[]> encode;
    private readonly string identity;
    private readonly Dictionary<string, Tensor[]> entries = new(StringComparer.Ordinal);

    /// <summary>Creates a cache.</summary>
    /// <param name="tokenizerFingerprint">Identifies the tokenizer (for example a hash of its vocabulary and merges).</param>
    /// <param name="textEncoderFingerprint">Identifies the text encoder(s) (see <see cref="ModelFingerprint"/>).</param>
    /// <param name="clipSkip">The clip skip the outputs are taken with.</param>
    /// <param name="encode">Encodes one caption to the tensors the trainer needs (for SDXL: both hidden states and the
    /// pooled output); called under <c>no_grad</c> on a miss. The cache keeps detached copies; the returned
    /// tensors are disposed by the cache.</param>
    public TextEncoderOutputCache(string tokenizerFingerprint, string textEncoderFingerprint, int clipSkip, Func<string, Tensor[]> encode)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(tokenizerFingerprint);
        ArgumentException.ThrowIfNullOrWhiteSpace(textEncoderFingerprint);
        ArgumentOutOfRangeException.ThrowIfLessThan(clipSkip, 1);
        ArgumentNullException.ThrowIfNull(encode);
        this.encode = encode;
        ClipSkip = clipSkip;
        identity = string.Create(CultureInfo.InvariantCulture, $"sdtune-text-outputs/1\ntokenizer={tokenizerFingerprint}\nencoder={textEncoderFingerprint}\nclip_skip={clipSkip}\n");
    }

    /// <summary>The clip skip every entry was computed with.</summary>
    public int ClipSkip { get; }

    /// <summary>Lookups answered from the cache.</summary>
    public int Hits { get; private set; }

    /// <summary>Lookups that ran the encoder.</summary>
    public int Misses { get; private set; }

    /// <summary>Number of cached captions.</summary>
    public int Count => entries.Count;

    /// <summary>The key of a caption: SHA-256 (hex) of the cache identity and the caption text.</summary>
    public string KeyFor(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity + "caption=" + caption)));
    }

    /// <summary>The encoder outputs of a caption, cached or computed. The tensors are new copies owned by the caller.</summary>
    public Tensor[] Get(string caption)
    {
        var key = KeyFor(caption);
        if (entries.TryGetValue(key, out var cached))
        {
            Hits++;
            return [.. cached.Select(t => t.clone())];
        }

        Misses++;
        Tensor[] stored;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var outputs = encode(caption);
            stored = [.. outputs.Select(t => t.detach().clone().DetachFromDisposeScope())];
        }

        entries[key] = stored;
        return [.. stored.Select(t => t.clone())];
    }

    /// <summary>Frees every cached tensor.</summary>
    public void Dispose()
    {
        foreach (var tensors in entries.Values)
        {
            foreach (var t in tensors)
            {
                t.Dispose();
            }
        }

        entries.Clear();
    }
}
