using System.Globalization;
using System.Text.Json.Nodes;
using SdTune.IO;

namespace SdTune.Training.Data;

/// <summary>One bucket of the <c>bucket_info</c> metadata.</summary>
/// <param name="Index">The bucket's index among the dataset's buckets sorted by resolution.</param>
/// <param name="Resolution">Width and height.</param>
/// <param name="Count">Images in it per epoch, repeats included.</param>
public sealed record BucketCount(int Index, PixelSize Resolution, int Count);

/// <summary>sd-scripts' <c>bucket_info</c> training metadata of one dataset.</summary>
/// <param name="Buckets">The non-empty buckets.</param>
/// <param name="MeanImageAspectRatioError">The mean absolute aspect-ratio error over images (repeats not counted).</param>
public sealed record BucketInfo(IReadOnlyList<BucketCount> Buckets, double MeanImageAspectRatioError)
{
    /// <summary>The JSON sd-scripts writes (Python's <c>json.dumps</c>): <c>{"buckets": {"0": {"resolution": [w, h], "count": n}}, "mean_img_ar_error": x}</c>.</summary>
    public string ToJson() => PythonJson.Serialize(ToJsonNode());

    internal JsonObject ToJsonNode()
    {
        var buckets = new JsonObject();
        foreach (var b in Buckets)
        {
            buckets[b.Index.ToString(CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["resolution"] = new JsonArray(b.Resolution.Width, b.Resolution.Height),
                ["count"] = b.Count,
            };
        }

        return new JsonObject { ["buckets"] = buckets, ["mean_img_ar_error"] = MeanImageAspectRatioError };
    }
}
