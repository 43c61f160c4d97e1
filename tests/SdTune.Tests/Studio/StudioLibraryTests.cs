using System.Net.Http.Json;
using System.Text.Json;
using SdTune.Adapters.Formats;
using SdTune.Adapters.Hypernetworks;
using SdTune.Checkpoints.Embeddings;
using SdTune.Checkpoints.Hypernetworks;
using SdTune.Imaging;
using SkiaSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Studio;

/// <summary>Generate's library pickers (embeddings, hypernetworks, controls), img2img and the batch grid on the toy model.</summary>
[Collection(StudioCollection.Name)]
public sealed class StudioLibraryTests(StudioFixture studio)
{
    private static readonly object Plain = new { prompt = "a red circle studioemb", steps = 4, seed = 3, width = 32, height = 32 };

    [Fact]
    public async Task An_embedding_of_the_embeddings_folder_is_listed_and_used_by_its_name_in_the_prompt()
    {
        var before = await Generate(Plain);
        using (var vectors = randn(2, 32, generator: new TorchSharp.torch.Generator(5)))
        using (var embedding = new TextualInversionEmbedding("studioemb", new Dictionary<string, Tensor> { [TextualInversionEmbedding.DefaultEncoderKey] = vectors }, "a1111"))
        {
            TextualInversionFile.SaveA1111(embedding, Path.Combine(studio.Home, "embeddings", "studioemb.pt"));
        }

        var listed = await studio.Client.GetFromJsonAsync<JsonElement>("/api/embeddings");
        Assert.Contains(listed.EnumerateArray(), e => e.GetProperty("name").GetString() == "studioemb");
        Assert.NotEqual(before, await Generate(Plain));
    }

    [Fact]
    public async Task A_hypernetwork_of_the_hypernetworks_folder_is_listed_applied_and_named_in_the_infotext()
    {
        manual_seed(21);
        using (var network = new Hypernetwork([32], new HypernetworkSettings { Activation = "relu" }))
        {
            using (no_grad())
            {
                foreach (var p in network.parameters())
                {
                    p.normal_(0, 0.5);
                }
            }

            A1111HypernetworkFormat.Save(Path.Combine(studio.Home, "hypernetworks", "studiohn.pt"), network, new HypernetworkFileContents { Layers = [], Name = "studiohn", Step = 1 });
        }

        var listed = await studio.Client.GetFromJsonAsync<JsonElement>("/api/hypernetworks");
        Assert.Contains(listed.EnumerateArray(), e => e.GetProperty("name").GetString() == "studiohn.pt");
        var plain = new { prompt = "a blue square", steps = 4, seed = 3, width = 32, height = 32 };
        var with = new { plain.prompt, plain.steps, plain.seed, plain.width, plain.height, hypernetworks = new object[] { new { name = "studiohn.pt", strength = 1.0 } } };
        var (pixels, infotext) = await GenerateWithText(with);
        Assert.NotEqual(await Generate(plain), pixels);
        Assert.Contains("Hypernet: studiohn", infotext, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Img2img_starts_from_the_init_image_and_a_batch_grid_holds_the_batch()
    {
        using var init = new SKBitmap(32, 32);
        init.Erase(new SKColor(20, 200, 40));
        var data = "data:image/png;base64," + Convert.ToBase64String(PngWriter.Encode(init));
        var request = new { prompt = "a red circle", steps = 6, seed = 8, init_image = data, strength = 0.3, batch_size = 2, grid = true };
        using var response = await studio.Client.PostAsJsonAsync("/api/generate", request);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());

        var images = body.GetProperty("images").EnumerateArray().ToArray();
        Assert.Equal(2, images.Length);
        Assert.Contains("Denoising strength: 0.3", images[0].GetProperty("infotext").GetString(), StringComparison.Ordinal);
        using var first = SKBitmap.Decode(await studio.Client.GetByteArrayAsync(images[0].GetProperty("url").GetString()));
        Assert.Equal((32, 32), (first.Width, first.Height));
        var mean = Enumerable.Range(0, 32 * 32).Select(i => first.GetPixel(i % 32, i / 32)).Aggregate((R: 0.0, G: 0.0), (a, c) => (a.R + c.Red, a.G + c.Green));
        Assert.True(mean.G > mean.R, "at strength 0.3 the green init image still dominates");

        // Two images: round(sqrt(2)) = 1 row of 2 columns, the first image on the left.
        var grid = body.GetProperty("grid");
        using var gridBitmap = SKBitmap.Decode(await studio.Client.GetByteArrayAsync(grid.GetProperty("url").GetString()));
        Assert.Equal((64, 32), (gridBitmap.Width, gridBitmap.Height));
        Assert.All(Enumerable.Range(0, 32 * 32), i => Assert.Equal(first.GetPixel(i % 32, i / 32), gridBitmap.GetPixel(i % 32, i / 32)));
    }

    [Fact]
    public async Task Controls_are_listed_from_the_controlnet_folder_and_a_wrong_control_names_the_controls_field()
    {
        var folder = Path.Combine(studio.Home, "controlnet", "studio-canny");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), "{}");
        File.WriteAllBytes(Path.Combine(folder, "diffusion_pytorch_model.safetensors"), [0]);
        File.WriteAllBytes(Path.Combine(studio.Home, "controlnet", "studio-depth.safetensors"), [0]);

        var listed = (await studio.Client.GetFromJsonAsync<JsonElement>("/api/controls")).EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
        Assert.Contains("studio-canny", listed);
        Assert.Contains("studio-depth.safetensors", listed);
        Assert.DoesNotContain("studio-canny/diffusion_pytorch_model.safetensors", listed);
        Assert.Contains("canny", (await studio.Client.GetFromJsonAsync<string[]>("/api/preprocessors"))!);

        using var image = new SKBitmap(8, 8);
        var data = Convert.ToBase64String(PngWriter.Encode(image));
        foreach (var (control, message) in new (object, string)[]
        {
            (new { model = "studio-canny" }, "image: each control needs an image"),
            (new { model = "studio-canny", image = data, type = "lora" }, "type: \"lora\" is not controlnet or t2i_adapter"),
            (new { model = "studio-canny", image = data, preprocessor = "sharpen" }, "preprocessor: unknown preprocessor \"sharpen\""),
            (new { model = "studio-canny", image = data, start = 0.8, end = 0.2 }, "after the end"),
            (new { model = "studio-canny", image = data, colour = 1 }, "colour: unknown field"),
        })
        {
            using var response = await studio.Client.PostAsJsonAsync("/api/generate", new { prompt = "x", controls = new[] { control } });
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(400, (int)response.StatusCode);
            Assert.Equal("controls", body.GetProperty("field").GetString());
            Assert.Contains(message, body.GetProperty("error").GetString(), StringComparison.Ordinal);
        }
    }

    private async Task<byte[]> Generate(object request) => (await GenerateWithText(request)).Pixels;

    private async Task<(byte[] Pixels, string Infotext)> GenerateWithText(object request)
    {
        using var response = await studio.Client.PostAsJsonAsync("/api/generate", request);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        var image = body.GetProperty("images")[0];
        using var bitmap = SKBitmap.Decode(await studio.Client.GetByteArrayAsync(image.GetProperty("url").GetString()));
        return (BitmapPixels.ReadOpaqueRgba(bitmap), image.GetProperty("infotext").GetString()!);
    }
}
