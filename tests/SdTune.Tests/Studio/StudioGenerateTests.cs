using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using SdTune.Checkpoints;
using SdTune.Imaging;
using SdTune.Pipelines;
using SdTune.Studio;
using SdTune.Studio.Runs;
using SdTune.Training;
using SkiaSharp;

namespace SdTune.Tests.Studio;

/// <summary>The generation API on the embedded toy model, the configuration TOML and the pages.</summary>
[Collection(StudioCollection.Name)]
public sealed class StudioGenerateTests(StudioFixture studio)
{
    private static readonly object FewSteps = new { max_train_steps = 3, network_dim = 2, seed = 1, learning_rate = 0.05 };

    [Fact]
    public async Task Generating_on_the_toy_model_saves_images_whose_infotext_matches_the_request_and_pixels_match_the_library_pipeline()
    {
        var (code, body) = await Post("/api/generate", new { prompt = "a red circle", negative_prompt = "blue", sampler = "Euler a", steps = 4, cfg = 5.5, seed = 42, width = 32, height = 32, batch_size = 2 });
        Assert.Equal(200, code);
        var images = body.GetProperty("images").EnumerateArray().ToArray();
        Assert.Equal(2, images.Length);

        var toy = Path.Combine(AppContext.BaseDirectory, "toyworld", "base-model");
        using var model = StableDiffusionModels.Load(toy);
        using var pipeline = new StableDiffusionPipeline(model, new PipelineOptions { ModelName = "toy" });
        using var expected = pipeline.Generate(new GenerationRequest
        {
            Prompt = "a red circle", NegativePrompt = "blue", Sampler = "Euler a", Steps = 4, CfgScale = 5.5, Seed = 42, Width = 32, Height = 32, BatchSize = 2,
        });

        for (var i = 0; i < images.Length; i++)
        {
            var png = await studio.Client.GetByteArrayAsync(images[i].GetProperty("url").GetString());
            var infotext = GenerationInfotext.Parse(PngText.Find(PngText.Read(png, "image"), PngText.ParametersKeyword)!);
            Assert.Equal(("a red circle", "blue", 4, "Euler a", 5.5, 42L + i, 32, 32), (infotext.Prompt, infotext.NegativePrompt, infotext.Steps, infotext.Sampler, infotext.CfgScale, infotext.Seed, infotext.Width, infotext.Height));
            Assert.Equal(expected.Images[i].Infotext.ToText(), images[i].GetProperty("infotext").GetString());
            Assert.Equal(Pixels(expected.Images[i].Image), Pixels(png));
            Assert.True(File.Exists(Path.Combine(studio.Home, "outputs", images[i].GetProperty("name").GetString()!)));
        }
    }

    [Fact]
    public async Task A_queued_generation_is_generated_by_the_worker_as_the_synchronous_endpoint_generates_it()
    {
        var request = new { prompt = "a green square", sampler = "DPM++ 2M", steps = 3, seed = 17, width = 32, height = 32 };
        var (code, queued) = await Post("/api/generations", request);
        Assert.Equal(202, code);
        var id = queued.GetProperty("id").GetString()!;
        Assert.Equal("queued", queued.GetProperty("state").GetString());
        Assert.True(File.Exists(Path.Combine(studio.Home, "generations", id, "request.json")));

        JsonElement job;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            job = await studio.Client.GetFromJsonAsync<JsonElement>($"/api/generations/{id}");
            if (job.GetProperty("state").GetString() is "completed" or "failed")
            {
                break;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"generation {id} is still {job.GetProperty("state")}");
            await Task.Delay(100);
        }

        Assert.Equal("completed", job.GetProperty("state").GetString());
        var (_, direct) = await Post("/api/generate", request);
        var queuedImage = job.GetProperty("images")[0];
        var directImage = direct.GetProperty("images")[0];
        Assert.Equal(directImage.GetProperty("infotext").GetString(), queuedImage.GetProperty("infotext").GetString());
        Assert.Equal(Pixels(await Image(direct)), Pixels(await studio.Client.GetByteArrayAsync(queuedImage.GetProperty("url").GetString())));
        Assert.Contains((await studio.Client.GetFromJsonAsync<JsonElement>("/api/generations")).EnumerateArray(), g => g.GetProperty("id").GetString() == id);

        var (badCode, bad) = await Post("/api/generations", new { prompt = "x", steps = 0 });
        Assert.Equal((400, "steps"), (badCode, bad.GetProperty("field").GetString()));
        using var missing = await studio.Client.GetAsync("/api/generations/20990101-000000-abcdef");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Theory]
    [InlineData("""{"prompt": "x", "sampler": "Euler z"}""", "sampler", "Euler a")]
    [InlineData("""{"prompt": "x", "steps": 0}""", "steps", "--steps")]
    [InlineData("""{"prompt": "x", "width": 33}""", "width", "--width")]
    [InlineData("""{"prompt": "x", "steps": "many"}""", "steps", "whole number")]
    [InlineData("""{"sampler": "Euler a"}""", "prompt", "required")]
    [InlineData("""{"prompt": "x", "model": "../runs"}""", "model", "outside")]
    [InlineData("""{"prompt": "x", "loras": ["../storage/hangfire.db"]}""", "loras", "outside")]
    [InlineData("""{"prompt": "x", "loras": ["run:nope"]}""", "loras", "no run")]
    [InlineData("""{"prompt": "x", "colour": 1}""", "colour", "unknown field")]
    [InlineData("""{"prompt": "x", "hypernetworks": ["../loras/a.pt"]}""", "hypernetworks", "outside")]
    [InlineData("""{"prompt": "x", "hypernetworks": [{"name": "none.pt", "strength": 1}]}""", "hypernetworks", "no hypernetwork \"none.pt\"")]
    [InlineData("""{"prompt": "x", "controls": {}}""", "controls", "expected an array")]
    [InlineData("""{"prompt": "x", "controls": [{"model": "nope", "image": ""}]}""", "controls", "no ControlNet or T2I-Adapter \"nope\"")]
    [InlineData("""{"prompt": "x", "controls": [{"model": "../models", "image": ""}]}""", "controls", "outside")]
    [InlineData("""{"prompt": "x", "init_image": "%%%"}""", "init_image", "base64")]
    [InlineData("""{"prompt": "x", "init_image": "data:image/png;base64,aGVsbG8="}""", "init_image", "not an image")]
    [InlineData("""{"prompt": "x", "strength": 2}""", "strength", "--strength")]
    [InlineData("""{"prompt": "x", "grid": "yes"}""", "grid", "true or false")]
    public async Task A_wrong_generation_request_gets_400_naming_the_field(string json, string field, string message)
    {
        using var response = await studio.Client.PostAsync("/api/generate", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(field, body.GetProperty("field").GetString());
        Assert.Contains(message, body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_samplers_are_the_registrys()
    {
        var samplers = await studio.Client.GetFromJsonAsync<string[]>("/api/samplers");
        Assert.Equal(SdTune.Schedulers.SamplerRegistry.Names, samplers);
    }

    [Fact]
    public async Task A_lora_from_a_finished_toy_run_is_listed_and_changes_the_image()
    {
        var (code, run) = await studio.PostRun(new { method = "lora", dataset = "tiny", keys = FewSteps });
        Assert.Equal(202, code);
        var id = run.GetProperty("id").GetString()!;
        Assert.Equal(RunState.Completed, (await studio.WaitFor(id, s => s.IsFinal)).State);

        var loras = await studio.Client.GetFromJsonAsync<JsonElement>("/api/loras");
        Assert.Contains(loras.EnumerateArray(), l => l.GetProperty("name").GetString() == "run:" + id && l.GetProperty("method").GetString() == "lora");

        var settings = new { prompt = "a red circle", steps = 4, seed = 7, width = 32, height = 32 };
        var (_, plain) = await Post("/api/generate", settings);
        var (withCode, with) = await Post("/api/generate", new { settings.prompt, settings.steps, settings.seed, settings.width, settings.height, loras = new object[] { new { name = "run:" + id, weight = 4.0 } } });
        Assert.Equal(200, withCode);
        Assert.NotEqual(Pixels(await Image(plain)), Pixels(await Image(with)));
    }

    [Fact]
    public async Task Pnginfo_reads_back_the_infotext_of_an_image_the_studio_made()
    {
        var (_, body) = await Post("/api/generate", new { prompt = "(a red:1.2) circle, BREAK square", sampler = "DPM++ 2M", steps = 3, seed = 5, width = 32, height = 32 });
        var image = body.GetProperty("images")[0];
        var png = await Image(body);

        using var content = new ByteArrayContent(png);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var raw = await studio.Client.PostAsync("/api/pnginfo", content);
        var info = await raw.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(image.GetProperty("infotext").GetString(), info.GetProperty("parameters").GetString());
        var fields = info.GetProperty("fields").EnumerateArray().ToDictionary(f => f.GetProperty("key").GetString()!, f => f.GetProperty("value").GetString());
        Assert.Equal(("(a red:1.2) circle, BREAK square", "DPM++ 2M", "5", "3"), (fields["Prompt"], fields["Sampler"], fields["Seed"], fields["Steps"]));

        using var form = new MultipartFormDataContent { { new ByteArrayContent(png), "file", "dropped.png" } };
        using var multipart = await studio.Client.PostAsync("/api/pnginfo", form);
        Assert.True(multipart.IsSuccessStatusCode, $"{multipart.StatusCode}: {await multipart.Content.ReadAsStringAsync()}");
        Assert.Equal(image.GetProperty("infotext").GetString(), (await multipart.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("parameters").GetString());

        using var notPng = await studio.Client.PostAsync("/api/pnginfo", new ByteArrayContent([1, 2, 3]));
        Assert.Equal(HttpStatusCode.BadRequest, notPng.StatusCode);
        Assert.Equal("file", (await notPng.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("..%2Fstorage%2Fhangfire.db")]
    [InlineData("nope.png")]
    public async Task An_image_outside_outputs_or_missing_is_404(string name)
    {
        using var response = await studio.Client.GetAsync("/api/images/" + name);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task The_config_toml_reads_back_with_the_clis_reader_to_the_values_of_the_clis_overrides()
    {
        var keys = new Dictionary<string, object> { ["max_train_steps"] = 7, ["network_dim"] = 4, ["learning_rate"] = 0.0002, ["mixed_precision"] = "no", ["seed"] = 3 };
        using var response = await studio.Client.PostAsJsonAsync("/api/config/toml", new { method = "lora", keys, dataset = "tiny", base_model = "toy" });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var toml = await response.Content.ReadAsStringAsync();
        var read = TrainingConfig.Parse(toml, "studio");
        var cli = TrainingConfig.Parse("", "command line").WithOverrides(["method=lora", "max_train_steps=7", "network_dim=4", "learning_rate=0.0002", "mixed_precision=no", "seed=3"]);
        Assert.Equal("lora", read.Method);
        foreach (var key in keys.Keys)
        {
            Assert.Equal(TrainingConfigKeys.ByName[key].Get(cli), TrainingConfigKeys.ByName[key].Get(read));
        }

        Assert.Equal(Path.Combine(studio.Home, "datasets", "tiny"), read.TrainDataDir);

        var (code, error) = await Post("/api/config/toml", new { method = "lora", dataset = "tiny", keys = new { network_dim = -1 } });
        Assert.Equal((400, "network_dim"), (code, error.GetProperty("field").GetString()));
    }

    [Fact]
    public async Task A_run_with_sample_prompt_lines_writes_sample_images_the_api_lists_and_serves()
    {
        var (code, run) = await studio.PostRun(new { method = "lora", dataset = "tiny", sample_prompt_lines = "a red circle --w 32 --h 32 --s 3 --d 1", keys = new { max_train_steps = 2, network_dim = 2, sample_every_n_steps = 1 } });
        Assert.Equal(202, code);
        var id = run.GetProperty("id").GetString()!;
        Assert.Equal(RunState.Completed, (await studio.WaitFor(id, s => s.IsFinal)).State);

        var samples = await studio.Client.GetFromJsonAsync<JsonElement>($"/api/runs/{id}/samples");
        Assert.NotEmpty(samples.EnumerateArray());
        var png = await studio.Client.GetByteArrayAsync(samples[0].GetProperty("url").GetString());
        Assert.Contains("a red circle", PngText.Find(PngText.Read(png, "sample"), PngText.ParametersKeyword), StringComparison.Ordinal);

        var (badCode, bad) = await studio.PostRun(new { method = "lora", dataset = "tiny", sample_prompt_lines = "x --w many", keys = new { sample_every_n_steps = 1 } });
        Assert.Equal((400, "sample_prompt_lines"), (badCode, bad.GetProperty("field").GetString()));
    }

    [Theory]
    [InlineData("/", "runs", "run-view,run-progress,run-loss,run-eta,run-samples,run-open-generate,run-loss-chart,run-config,runs", "/api/runs,/samples,/events,/loss,/config,/files/")]
    [InlineData("/data", "data", "data-dataset,data-resolution,data-enable-bucket,data-summary,data-buckets,data-images", "/api/datasets,/images,/captions/")]
    [InlineData("/train", "train", "train-method,train-dataset,train-base-model,train-keys,train-sample-prompts,train-save-toml,train-start,train-toml", "/api/methods,/api/config/toml,/api/runs,/api/models,/api/datasets")]
    [InlineData("/generate", "generate", "gen-prompt,gen-negative-prompt,gen-model,gen-lora,gen-lora-weight,gen-sampler,gen-steps,gen-cfg,gen-seed,gen-width,gen-height,gen-batch-size,gen-submit,gen-results,gen-error,pnginfo-drop,pnginfo-file,pnginfo-result", "/api/generations,/api/pnginfo,/api/samplers,/api/loras,/api/models,/api/embeddings,/api/hypernetworks,/api/controls,/api/preprocessors")]
    [InlineData("/compare", "compare", "compare-bench-methods,compare-bench-steps,compare-bench-seeds,compare-bench-start,compare-benchmarks,compare-bench-table,compare-bench-chart,compare-grid-runs,compare-grid-prompts,compare-grid-start,compare-grids", "/api/benchmarks/methods,/api/benchmarks,/api/grids,/api/runs,/api/samplers")]
    public async Task Each_page_needs_the_token_and_holds_the_elements_and_calls_the_endpoints_it_is_made_of(string path, string page, string ids, string endpoints)
    {
        using (var anonymous = await studio.Anonymous.GetAsync(path))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        var html = await studio.Client.GetStringAsync(path);
        Assert.Contains($"data-page=\"{page}\"", html, StringComparison.Ordinal);
        Assert.Contains($"<script src=\"/{page}.js\">", html, StringComparison.Ordinal);
        foreach (var id in StudioPages.All.Select(p => "nav-" + p.Name).Concat(ids.Split(',')))
        {
            Assert.Contains($"id=\"{id}\"", html, StringComparison.Ordinal);
        }

        var script = await studio.Client.GetStringAsync($"/{page}.js");
        Assert.Contains($"registerPage(\"{page}\"", script, StringComparison.Ordinal);
        foreach (var endpoint in endpoints.Split(','))
        {
            Assert.Contains(endpoint, script, StringComparison.Ordinal);
        }

        using var missing = await studio.Client.GetAsync("/no-such-script.js");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private async Task<(int Status, JsonElement Body)> Post(string path, object request)
    {
        using var response = await studio.Client.PostAsJsonAsync(path, request);
        return ((int)response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    private Task<byte[]> Image(JsonElement generated) => studio.Client.GetByteArrayAsync(generated.GetProperty("images")[0].GetProperty("url").GetString());

    private static byte[] Pixels(byte[] png)
    {
        using var bitmap = SKBitmap.Decode(png);
        return Pixels(bitmap);
    }

    private static byte[] Pixels(SKBitmap bitmap) => BitmapPixels.ReadOpaqueRgba(bitmap);
}
