using SdTune.Adapters.Formats;
using SdTune.Adapters.Hypernetworks;
using SdTune.Checkpoints.Hypernetworks;
using SdTune.Imaging;
using SdTune.Models;
using SdTune.Pipelines;
using SkiaSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Pipelines;

/// <summary>Generation with hypernetworks from the request and from <c>&lt;hypernet:name:m&gt;</c> tags.</summary>
public sealed class HypernetworkGenerationTests : IDisposable
{
    private readonly StableDiffusionModel sd1 = PipelineModels.Sd1();
    private readonly TempDir dir = TestPaths.NewTempDir();

    public void Dispose()
    {
        sd1.Dispose();
        dir.Dispose();
    }

    private static GenerationRequest Request(string prompt) => new()
    {
        Prompt = prompt,
        NegativePrompt = "blurry",
        Steps = 4,
        Seed = 42,
        Width = 32,
        Height = 32,
    };

    private static byte[] Pixels(SKBitmap bitmap) => bitmap.GetPixelSpan().ToArray();

    private static byte[] Generate(StableDiffusionPipeline pipeline, GenerationRequest request)
    {
        using var result = pipeline.Generate(request);
        return Pixels(result.Images[0].Image);
    }

    /// <summary>Writes a hypernetwork file whose weights are N(0, scale); zeroOutput zeroes the last Linear.</summary>
    private string Write(string name, long[] widths, double scale, bool zeroOutput = false)
    {
        manual_seed(21);
        using var network = new Hypernetwork(widths, new HypernetworkSettings { Activation = "relu" });
        using (no_grad())
        {
            foreach (var (pname, p) in network.named_parameters())
            {
                if (zeroOutput && pname.Contains("linear.2.", StringComparison.Ordinal))
                {
                    p.zero_();
                }
                else
                {
                    p.normal_(0, scale);
                }
            }
        }

        var path = Path.Combine(dir.Path, name + ".pt");
        A1111HypernetworkFormat.Save(path, network, new HypernetworkFileContents { Layers = [], Name = name, Step = 1 });
        return path;
    }

    [Fact]
    public void Zero_output_layers_leave_the_image_bit_identical_and_a_trained_one_changes_it()
    {
        using var pipeline = new StableDiffusionPipeline(sd1);
        var plain = Generate(pipeline, Request("a cat"));
        var zero = Write("zero", [32, 64], 0.5, zeroOutput: true);
        var strong = Write("strong", [32, 64], 0.5);

        using (var withZero = pipeline.Generate(Request("a cat") with { Hypernetworks = [(zero, 1.0)] }))
        {
            Assert.Equal(plain, Pixels(withZero.Images[0].Image));
        }

        using var withStrong = pipeline.Generate(Request("a cat") with { Hypernetworks = [(strong, 1.0)] });
        Assert.NotEqual(plain, Pixels(withStrong.Images[0].Image));
        var info = withStrong.Images[0].Infotext.ToText();
        Assert.Contains("Hypernet: strong", info, StringComparison.Ordinal);
        Assert.Contains("Hypernet strength: 1", info, StringComparison.Ordinal);

        // Strength 0 is the plain model; the hypernetwork is removed after each generation.
        Assert.Equal(plain, Generate(pipeline, Request("a cat") with { Hypernetworks = [(strong, 0.0)] }));
        Assert.Equal(plain, Generate(pipeline, Request("a cat")));
        Assert.Null(sd1.Unet.CrossAttentionContext);
    }

    [Fact]
    public void Tags_find_files_in_the_hypernetwork_folder_and_match_the_request_list()
    {
        var folder = Directory.CreateDirectory(Path.Combine(dir.Path, "hypernetworks")).FullName;
        var strong = Write("strong", [32], 0.5);
        File.Copy(strong, Path.Combine(folder, "style.pt"));
        using var pipeline = new StableDiffusionPipeline(sd1, new PipelineOptions { HypernetworkFolder = folder });
        var plain = Generate(pipeline, Request("a cat"));
        var tagged = Generate(pipeline, Request("a cat <hypernet:style:0.8>"));
        Assert.NotEqual(plain, tagged);
        Assert.Equal(tagged, Generate(pipeline, Request("a cat") with { Hypernetworks = [(strong, 0.8)] }));
        Assert.NotEqual(tagged, Generate(pipeline, Request("a cat <hypernet:style:0.4>")));

        // Two chained differ from one.
        Assert.NotEqual(tagged, Generate(pipeline, Request("a cat <hypernet:style:0.8> <hypernet:style:0.8>")));

        using var missing = pipeline.Generate(Request("a cat <hypernet:nothing:1>"));
        Assert.Equal(plain, Pixels(missing.Images[0].Image));
        Assert.Contains(missing.Warnings, w => w.Contains("<hypernet:nothing>", StringComparison.Ordinal));
        Assert.Throws<FileNotFoundException>(() => pipeline.Generate(Request("a cat") with { Hypernetworks = [("nothing", 1.0)] }));
    }

    [Fact]
    public void A_file_whose_widths_do_not_fit_the_model_is_skipped_with_a_warning_naming_it()
    {
        var foreign = Write("sd1-style", [768, 320, 640, 1280], 0.01);
        using var pipeline = new StableDiffusionPipeline(sd1);
        var plain = Generate(pipeline, Request("a cat"));
        using var result = pipeline.Generate(Request("a cat") with { Hypernetworks = [(foreign, 1.0)] });
        Assert.Equal(plain, Pixels(result.Images[0].Image));
        var warning = Assert.Single(result.Warnings, w => w.Contains("sd1-style.pt", StringComparison.Ordinal));
        Assert.Contains("768, 320, 640, 1280", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("Hypernet", result.Images[0].Infotext.ToText(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_strength_outside_float32_is_refused_naming_the_option()
    {
        var e = Assert.Throws<ArgumentException>(() => (Request("a cat") with { Hypernetworks = [("x.pt", 1e300)] }).Validate());
        Assert.Contains("--hypernetwork x.pt", e.Message, StringComparison.Ordinal);
    }
}
