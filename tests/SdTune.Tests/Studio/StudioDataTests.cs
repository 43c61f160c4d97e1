using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SdTune.Training.Data;
using SkiaSharp;

namespace SdTune.Tests.Studio;

/// <summary>The Data page's API: a dataset folder listed as training reads it, its images served, captions edited, paths confined.</summary>
[Collection(StudioCollection.Name)]
public sealed class StudioDataTests(StudioFixture studio)
{
    private const string Bucketing = "resolution=64&enable_bucket=true&min_bucket_reso=32&max_bucket_reso=128&bucket_reso_steps=32";

    [Fact]
    public async Task The_listing_shows_captions_repeats_sizes_and_the_buckets_training_uses_and_flags_unreadable_images()
    {
        var name = NewDataset();
        var images = await studio.Client.GetFromJsonAsync<JsonElement>($"/api/datasets/{name}/images?{Bucketing}");

        var rows = images.GetProperty("images").EnumerateArray().ToDictionary(i => i.GetProperty("path").GetString()!);
        Assert.Equal(["10_dog/broken.png", "10_dog/odd.png", "10_dog/wide.png", "3_cat/square.png"], rows.Keys.Order(StringComparer.Ordinal));

        // Buckets at 64x64 with sides 32..128 in steps of 32: 32x96, 32x128, 64x64, 96x32 and 128x32. 128x32 is one of them;
        // 100x30 (aspect 3.33) is nearest 96x32 (aspect 3); 40x40 is nearest 64x64.
        var wide = rows["10_dog/wide.png"];
        Assert.Equal((128, 32, "128x32", 10), (wide.GetProperty("width").GetInt32(), wide.GetProperty("height").GetInt32(), wide.GetProperty("bucket").GetString(), wide.GetProperty("repeats").GetInt32()));
        Assert.Equal("a wide dog", wide.GetProperty("caption").GetString());
        Assert.Equal("10_dog/wide.caption", wide.GetProperty("caption_file").GetString());
        Assert.Equal("96x32", rows["10_dog/odd.png"].GetProperty("bucket").GetString());
        Assert.Equal(("64x64", 3), (rows["3_cat/square.png"].GetProperty("bucket").GetString(), rows["3_cat/square.png"].GetProperty("repeats").GetInt32()));
        var assigner = BucketAssigner.For(new DatasetOptions { Resolution = new PixelSize(64, 64), EnableBucket = true, MinBucketReso = 32, MaxBucketReso = 128, BucketResoSteps = 32 });
        Assert.Equal("96x32", assigner.Assign(new PixelSize(100, 30)).Bucket.ToString());

        // No caption file: training uses the folder's class tokens.
        var odd = rows["10_dog/odd.png"];
        Assert.Equal(JsonValueKind.Null, odd.GetProperty("caption").ValueKind);
        Assert.Equal("dog", odd.GetProperty("training_caption").GetString());
        Assert.Equal("10_dog/odd.caption", odd.GetProperty("caption_file").GetString());

        var broken = rows["10_dog/broken.png"];
        Assert.False(broken.GetProperty("readable").GetBoolean());
        Assert.Contains("broken.png", broken.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, broken.GetProperty("bucket").ValueKind);
        Assert.True(wide.GetProperty("readable").GetBoolean());
        Assert.Equal(JsonValueKind.Null, wide.GetProperty("error").ValueKind);

        var summary = images.GetProperty("summary");
        Assert.Equal((4, 23, 1, 1), (summary.GetProperty("images").GetInt32(), summary.GetProperty("images_with_repeats").GetInt32(), summary.GetProperty("missing_captions").GetInt32(), summary.GetProperty("unreadable").GetInt32()));
        var buckets = summary.GetProperty("buckets").EnumerateArray().Select(b => (b.GetProperty("bucket").GetString(), b.GetProperty("images").GetInt32(), b.GetProperty("images_with_repeats").GetInt32()));
        Assert.Equal([("64x64", 1, 3), ("96x32", 1, 10), ("128x32", 1, 10)], buckets);
        Assert.Equal(JsonValueKind.Null, summary.GetProperty("training_error").ValueKind);
        Assert.Contains(summary.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("broken.png", StringComparison.Ordinal));

        // Without bucketing every image trains at the resolution.
        var plain = await studio.Client.GetFromJsonAsync<JsonElement>($"/api/datasets/{name}/images?resolution=64");
        Assert.All(plain.GetProperty("images").EnumerateArray().Where(i => i.GetProperty("readable").GetBoolean()), i => Assert.Equal("64x64", i.GetProperty("bucket").GetString()));
    }

    [Fact]
    public async Task A_folder_training_refuses_is_reported_with_the_reason()
    {
        var name = "data-" + Guid.NewGuid().ToString("N")[..8];
        var folder = Path.Combine(studio.Home, "datasets", name, "2_");
        Directory.CreateDirectory(folder);
        WritePng(Path.Combine(folder, "a.png"), 32, 32);

        var images = await studio.Client.GetFromJsonAsync<JsonElement>($"/api/datasets/{name}/images");
        Assert.Contains("no caption file", images.GetProperty("summary").GetProperty("training_error").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, images.GetProperty("images")[0].GetProperty("training_caption").ValueKind);
    }

    [Fact]
    public async Task An_image_is_served_and_a_caption_edit_is_written_next_to_it_and_listed()
    {
        var name = NewDataset();
        var listing = await studio.Client.GetFromJsonAsync<JsonElement>($"/api/datasets/{name}/images");
        var url = listing.GetProperty("images").EnumerateArray().Single(i => i.GetProperty("path").GetString() == "3_cat/square.png").GetProperty("url").GetString();
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(studio.Home, "datasets", name, "3_cat", "square.png")), await studio.Client.GetByteArrayAsync(url));

        using var put = await studio.Client.PutAsJsonAsync($"/api/datasets/{name}/captions/10_dog/odd.png", new { caption = "an odd dog, running" });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var answer = await put.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("10_dog/odd.caption", "an odd dog, running"), (answer.GetProperty("caption_file").GetString(), answer.GetProperty("caption").GetString()));
        Assert.Equal("an odd dog, running", await File.ReadAllTextAsync(Path.Combine(studio.Home, "datasets", name, "10_dog", "odd.caption")));

        using var txt = await studio.Client.PutAsJsonAsync($"/api/datasets/{name}/captions/10_dog/wide.png", new { caption = "wide, in txt", caption_extension = ".txt" });
        Assert.Equal(HttpStatusCode.OK, txt.StatusCode);
        Assert.Equal("wide, in txt", await File.ReadAllTextAsync(Path.Combine(studio.Home, "datasets", name, "10_dog", "wide.txt")));

        var after = await studio.Client.GetFromJsonAsync<JsonElement>($"/api/datasets/{name}/images");
        var odd = after.GetProperty("images").EnumerateArray().Single(i => i.GetProperty("path").GetString() == "10_dog/odd.png");
        Assert.Equal("an odd dog, running", odd.GetProperty("caption").GetString());
        Assert.Equal(0, after.GetProperty("summary").GetProperty("missing_captions").GetInt32());

        using var empty = await studio.Client.PutAsJsonAsync($"/api/datasets/{name}/captions/10_dog/odd.png", new { caption = "  " });
        Assert.Equal((HttpStatusCode.BadRequest, "caption"), (empty.StatusCode, await Field(empty)));
        Assert.Equal("an odd dog, running", await File.ReadAllTextAsync(Path.Combine(studio.Home, "datasets", name, "10_dog", "odd.caption")));

        using var missing = await studio.Client.PutAsJsonAsync($"/api/datasets/{name}/captions/10_dog/none.png", new { caption = "x" });
        Assert.Equal((HttpStatusCode.NotFound, "path"), (missing.StatusCode, await Field(missing)));
    }

    [Fact]
    public async Task A_metadata_jsonl_folder_lists_its_captions_and_refuses_caption_file_edits()
    {
        var name = "data-" + Guid.NewGuid().ToString("N")[..8];
        var folder = Path.Combine(studio.Home, "datasets", name);
        Directory.CreateDirectory(folder);
        WritePng(Path.Combine(folder, "a.png"), 64, 32);
        File.WriteAllText(Path.Combine(folder, "metadata.jsonl"), "{\"file_name\": \"a.png\", \"text\": \"from the metadata\"}\n");

        var listing = await studio.Client.GetFromJsonAsync<JsonElement>($"/api/datasets/{name}/images?resolution=64");
        var image = Assert.Single(listing.GetProperty("images").EnumerateArray());
        Assert.Equal(("a.png", "from the metadata", "64x64", 1), (image.GetProperty("path").GetString(), image.GetProperty("caption").GetString(), image.GetProperty("bucket").GetString(), image.GetProperty("repeats").GetInt32()));
        Assert.Equal(JsonValueKind.Null, image.GetProperty("caption_file").ValueKind);

        using var put = await studio.Client.PutAsJsonAsync($"/api/datasets/{name}/captions/a.png", new { caption = "x" });
        Assert.Equal((HttpStatusCode.BadRequest, "path"), (put.StatusCode, await Field(put)));
        Assert.False(File.Exists(Path.Combine(folder, "a.caption")));
    }

    [Theory]
    [InlineData("files/..%2F..%2Fruns%2Fx.png", "path")]
    [InlineData("files/10_dog%2F..%2F..%2Ftiny%2Fa.png", "path")]
    [InlineData("files/%2Fetc%2Fpasswd.png", "path")]
    [InlineData("files/10_dog/wide.caption", "path")]
    [InlineData("images?resolution=wide", "resolution")]
    [InlineData("images?enable_bucket=maybe", "enable_bucket")]
    [InlineData("images?enable_bucket=true&min_bucket_reso=512&max_bucket_reso=256", "max_bucket_reso")]
    [InlineData("images?caption_extension=txt", "caption_extension")]
    public async Task Paths_outside_the_dataset_and_bad_values_are_refused_naming_the_field(string request, string field)
    {
        var name = NewDataset();
        using var response = await studio.Client.GetAsync($"/api/datasets/{name}/{request}");
        Assert.Equal((HttpStatusCode.BadRequest, field), (response.StatusCode, await Field(response)));

        using var put = await studio.Client.PutAsJsonAsync($"/api/datasets/{name}/captions/..%2F..%2Fruns%2Fx.png", new { caption = "x" });
        Assert.Equal((HttpStatusCode.BadRequest, "path"), (put.StatusCode, await Field(put)));
        Assert.False(File.Exists(Path.Combine(studio.Home, "runs", "x.caption")));
    }

    [Fact]
    public async Task A_link_that_leads_outside_the_datasets_folder_is_refused_and_an_unknown_dataset_is_404()
    {
        var name = NewDataset();
        using var outside = TestPaths.NewTempDir();
        var secret = Path.Combine(outside.Path, "secret.png");
        WritePng(secret, 8, 8);
        File.CreateSymbolicLink(Path.Combine(studio.Home, "datasets", name, "10_dog", "link.png"), secret);
        Directory.CreateSymbolicLink(Path.Combine(studio.Home, "datasets", name, "1_linked"), outside.Path);

        foreach (var path in new[] { "10_dog/link.png", "1_linked/secret.png" })
        {
            using var file = await studio.Client.GetAsync($"/api/datasets/{name}/files/{path}");
            Assert.Equal((HttpStatusCode.BadRequest, "path"), (file.StatusCode, await Field(file)));
            using var put = await studio.Client.PutAsJsonAsync($"/api/datasets/{name}/captions/{path}", new { caption = "x" });
            Assert.Equal((HttpStatusCode.BadRequest, "path"), (put.StatusCode, await Field(put)));
        }

        Assert.False(File.Exists(Path.Combine(outside.Path, "secret.caption")));
        using var unknown = await studio.Client.GetAsync("/api/datasets/no-such-dataset/images");
        Assert.Equal((HttpStatusCode.NotFound, "name"), (unknown.StatusCode, await Field(unknown)));
        using var escape = await studio.Client.GetAsync("/api/datasets/..%2Fruns/images");
        Assert.Equal((HttpStatusCode.BadRequest, "name"), (escape.StatusCode, await Field(escape)));
    }

    [Fact]
    public async Task The_dataset_endpoints_need_the_token()
    {
        var name = NewDataset();
        using (var list = await studio.Anonymous.GetAsync($"/api/datasets/{name}/images"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, list.StatusCode);
        }

        using (var file = await studio.Anonymous.GetAsync($"/api/datasets/{name}/files/3_cat/square.png"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, file.StatusCode);
        }

        using var put = await studio.Anonymous.PutAsJsonAsync($"/api/datasets/{name}/captions/3_cat/square.png", new { caption = "x" });
        Assert.Equal(HttpStatusCode.Unauthorized, put.StatusCode);
        Assert.Equal("a cat", await File.ReadAllTextAsync(Path.Combine(studio.Home, "datasets", name, "3_cat", "square.caption")));
    }

    /// <summary>
    /// A dataset in the studio's folder: <c>10_dog</c> with wide.png (128x32, captioned), odd.png (100x30, no caption) and
    /// broken.png (not an image, captioned); <c>3_cat</c> with square.png (40x40, captioned).
    /// </summary>
    private string NewDataset()
    {
        var name = "data-" + Guid.NewGuid().ToString("N")[..8];
        var dog = Path.Combine(studio.Home, "datasets", name, "10_dog");
        var cat = Path.Combine(studio.Home, "datasets", name, "3_cat");
        Directory.CreateDirectory(dog);
        Directory.CreateDirectory(cat);
        WritePng(Path.Combine(dog, "wide.png"), 128, 32);
        File.WriteAllText(Path.Combine(dog, "wide.caption"), "a wide dog\nsecond line is not read");
        WritePng(Path.Combine(dog, "odd.png"), 100, 30);
        File.WriteAllBytes(Path.Combine(dog, "broken.png"), [0x89, 0x50, 0x4E, 0x47, 1, 2, 3, 4, 5]);
        File.WriteAllText(Path.Combine(dog, "broken.caption"), "a broken dog");
        WritePng(Path.Combine(cat, "square.png"), 40, 40);
        File.WriteAllText(Path.Combine(cat, "square.caption"), "a cat");
        return name;
    }

    private static void WritePng(string path, int width, int height)
    {
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(SKColors.Teal);
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    private static async Task<string?> Field(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString();
}
