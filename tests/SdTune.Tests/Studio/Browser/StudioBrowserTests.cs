using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace SdTune.Tests.Studio.Browser;

/// <summary>
/// The studio as a user drives it, in a real browser: fill the training form for a LoRA on the toy model, start it,
/// watch the progress and the sample image come in, open the result in Generate and make an image with it. The
/// screenshots go to the folder <see cref="ScreenshotsVariable"/> names (the README's come from here), else to a
/// temporary folder.
/// </summary>
public sealed class StudioBrowserTests : IAsyncLifetime
{
    /// <summary>The environment variable naming the folder for the screenshots.</summary>
    public const string ScreenshotsVariable = "SDTUNE_SCREENSHOTS";

    private static readonly TimeSpan TrainingTimeout = TimeSpan.FromMinutes(3);

    private readonly StudioFixture studio = new();
    private readonly TempDir temp = TestPaths.NewTempDir();
    private readonly List<string> pageErrors = [];
    private IPlaywright playwright = null!;
    private IBrowser browser = null!;
    private IPage page = null!;

    private string Screenshots => Environment.GetEnvironmentVariable(ScreenshotsVariable) is { Length: > 0 } folder ? folder : temp.Path;

    public async Task InitializeAsync()
    {
        await studio.InitializeAsync();
        (playwright, browser) = await TestChromium.LaunchAsync();
        page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        page.SetDefaultTimeout(30_000);
        page.PageError += (_, error) => pageErrors.Add(error);
        page.Console += (_, message) =>
        {
            // The form's deliberate mistake is answered 400, which the browser reports; any other error fails the test.
            if (message.Type == "error" && !message.Text.Contains("status of 400", StringComparison.Ordinal))
            {
                pageErrors.Add(message.Text);
            }
        };
    }

    public async Task DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
        await studio.DisposeAsync();
        temp.Dispose();
    }

    [Fact]
    public async Task A_user_trains_a_lora_on_the_toy_model_watches_it_and_generates_with_it()
    {
        // Train: the form is built from the methods' declarations; a bad value shows the CLI's own message at its key.
        await page.GotoAsync($"{studio.Studio.Address}train?token={studio.Studio.Token.Value}");
        Assert.DoesNotContain("token=", page.Url, StringComparison.Ordinal);
        await page.SelectOptionAsync("#train-method", "lora");
        await page.SelectOptionAsync("#train-dataset", "tiny");
        await Expect(page.Locator("#key-network_dim")).ToBeVisibleAsync();
        await page.FillAsync("#key-max_train_steps", "4");
        await page.FillAsync("#key-network_dim", "2");
        await page.FillAsync("#key-learning_rate", "-1");
        await page.ClickAsync("#train-start");
        await Expect(page.Locator("#error-learning_rate")).ToContainTextAsync("learning_rate");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/train$"));

        await page.FillAsync("#key-learning_rate", "0.001");
        await page.FillAsync("#key-sample_every_n_steps", "2");
        await page.FillAsync("#key-seed", "3");
        await page.FillAsync("#train-sample-prompts", "a red circle --w 32 --h 32 --s 4 --d 5");
        await page.EvaluateAsync("window.scrollTo(0, 0)");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "studio-train.png"), FullPage = false });
        await page.ClickAsync("#train-save-toml");
        await Expect(page.Locator("#train-toml")).ToContainTextAsync("network_dim = 2");

        // Runs: the page follows the run live, then shows the sample images and the output.
        await page.ClickAsync("#train-start");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/\\?run="));
        await Expect(page.Locator("#run-state")).ToHaveTextAsync("completed", new() { Timeout = (float)TrainingTimeout.TotalMilliseconds });
        await Expect(page.Locator("#run-step")).ToHaveTextAsync("4/4");
        Assert.Matches(@"^\d+\.\d{4}$", await page.Locator("#run-loss").InnerTextAsync());
        await Expect(page.Locator("img.run-sample")).ToHaveCountAsync(2);
        Assert.Equal(32, await page.Locator("img.run-sample").First.EvaluateAsync<int>("img => img.complete ? img.naturalWidth : 0"));
        await Expect(page.Locator("#run-outputs")).ToContainTextAsync("output/last.safetensors");
        await Expect(page.Locator("#run-loss-chart")).ToHaveAttributeAsync("data-points", "4");
        await Expect(page.Locator("#run-config")).ToContainTextAsync("network_dim = 2");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "studio-runs.png"), FullPage = false });

        // Generate: the run's LoRA is picked; the image comes back with its parameters, which PNG info reads again.
        var runId = await page.Locator("#run-id").InnerTextAsync();
        await page.ClickAsync("#run-open-generate");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/generate"));
        await Expect(page.Locator("#gen-lora")).ToHaveValueAsync("run:" + runId);
        await page.FillAsync("#gen-prompt", "a red circle");
        await page.FillAsync("#gen-steps", "4");
        await page.FillAsync("#gen-seed", "11");
        await page.FillAsync("#gen-width", "32");
        await page.FillAsync("#gen-height", "32");
        await page.ClickAsync("#gen-submit");
        var image = page.Locator("#gen-results img");
        await Expect(image).ToHaveCountAsync(1, new() { Timeout = 60_000 });
        await Expect(page.Locator("#gen-results figcaption")).ToContainTextAsync("Seed: 11");
        Assert.Equal(32, await image.EvaluateAsync<int>("img => img.decode().then(() => img.naturalWidth)"));
        var png = await page.APIRequest.GetAsync(new Uri(studio.Studio.Address, await image.GetAttributeAsync("src")).ToString());
        var file = Path.Combine(temp.Path, "generated.png");
        await File.WriteAllBytesAsync(file, await png.BodyAsync());
        await page.SetInputFilesAsync("#pnginfo-file", file);
        await Expect(page.Locator("#pnginfo-result")).ToContainTextAsync("a red circle");
        await Expect(page.Locator("#pnginfo-result")).ToContainTextAsync("11");
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "studio-generate.png"), FullPage = false });

        // Compare: an X/Y grid of the run against the base model, and a one-row method benchmark, both queued jobs.
        await page.ClickAsync("#nav-compare");
        await page.WaitForURLAsync(new System.Text.RegularExpressions.Regex("/compare$"));
        await page.CheckAsync($"#compare-grid-runs input[value='{runId}']");
        await page.FillAsync("#compare-grid-prompts", "a red circle\na blue square");
        await page.FillAsync("#compare-grid-steps", "4");
        await page.FillAsync("#compare-grid-seed", "2");
        await page.ClickAsync("#compare-grid-start");
        var grid = page.Locator("#compare-grids img.grid");
        await Expect(grid).ToHaveCountAsync(1, new() { Timeout = 60_000 });
        Assert.True(await grid.EvaluateAsync<int>("img => img.decode().then(() => img.naturalWidth)") > 64, "two columns of 32-pixel pictures and the row labels");
        var methods = page.Locator("#compare-bench-methods input[type=checkbox]");
        for (var i = 1; i < await methods.CountAsync(); i++)
        {
            await methods.Nth(i).UncheckAsync();
        }

        await page.FillAsync("#compare-bench-steps", "3");
        await page.FillAsync("#compare-bench-seeds", "1");
        var method = await methods.First.GetAttributeAsync("value");
        await page.ClickAsync("#compare-bench-start");

        // The base model's row, then the method's.
        await Expect(page.Locator("#compare-bench-table tbody tr")).ToHaveCountAsync(2, new() { Timeout = (float)TrainingTimeout.TotalMilliseconds });
        await Expect(page.Locator("#compare-bench-table tbody tr").Nth(1).Locator("td").First).ToHaveTextAsync(method!);
        await Expect(page.Locator("#compare-bench-chart")).ToBeVisibleAsync();
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "studio-compare.png"), FullPage = false });

        Assert.Empty(pageErrors);
    }

    [Fact]
    public async Task A_user_sees_a_dataset_as_training_reads_it_and_edits_a_caption()
    {
        var dog = Path.Combine(studio.Home, "datasets", "pets", "2_dog");
        Directory.CreateDirectory(dog);
        using (var bitmap = new SkiaSharp.SKBitmap(64, 32))
        using (var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100))
        {
            await File.WriteAllBytesAsync(Path.Combine(dog, "a.png"), data.ToArray());
        }

        await File.WriteAllTextAsync(Path.Combine(dog, "a.caption"), "a dog");
        await File.WriteAllBytesAsync(Path.Combine(dog, "b.png"), [1, 2, 3]);

        await page.GotoAsync($"{studio.Studio.Address}data?token={studio.Studio.Token.Value}&dataset=pets&resolution=64");
        await Expect(page.Locator("#data-dataset")).ToHaveValueAsync("pets");
        await Expect(page.Locator("#data-summary")).ToContainTextAsync("2 images, 2 images × repeats per epoch");
        await Expect(page.Locator("#data-summary")).ToContainTextAsync("1 without a caption file, 1 unreadable");
        await Expect(page.Locator("#data-buckets")).ToContainTextAsync("64x64");
        await Expect(page.Locator("#data-image-0")).ToContainTextAsync("64×32 → 64x64");
        await Expect(page.Locator("#data-image-0 .caption")).ToHaveValueAsync("a dog");
        await Expect(page.Locator("#data-image-1")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("unreadable"));
        await Expect(page.Locator("#data-image-1 .error").First).ToContainTextAsync("b.png");

        await page.FillAsync("#data-image-0 .caption", "a brown dog");
        await page.ClickAsync("#data-image-0 .save-caption");
        await Expect(page.Locator("#data-image-0 .status")).ToHaveTextAsync("saved to 2_dog/a.caption");
        Assert.Equal("a brown dog", await File.ReadAllTextAsync(Path.Combine(dog, "a.caption")));
        await page.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "studio-data.png"), FullPage = false });

        Assert.Empty(pageErrors);
    }
}
