using SdTune.Adapters;
using SdTune.Adapters.Formats;
using SdTune.Checkpoints.Embeddings;
using SdTune.Checkpoints.Safetensors;
using SdTune.Conditioning;
using SdTune.Imaging;
using SdTune.Models;
using SdTune.Pipelines;
using SdTune.Prompts;
using SdTune.Tests.Checkpoints.Formats;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Tests.Pipelines;

/// <summary>End-to-end generation on tiny SD1- and SDXL-shaped models with random (but well-scaled) weights.</summary>
public sealed class StableDiffusionPipelineTests : IDisposable
{
    private readonly StableDiffusionModel sd1 = PipelineModels.Sd1();

    public void Dispose() => sd1.Dispose();

    private static GenerationRequest Request(string prompt, long seed = 42, int batch = 1, string sampler = "Euler a") => new()
    {
        Prompt = prompt,
        NegativePrompt = "blurry",
        Steps = 4,
        Seed = seed,
        Width = 32,
        Height = 32,
        BatchSize = batch,
        Sampler = sampler,
    };

    private static byte[] Pixels(SKBitmap bitmap) => bitmap.GetPixelSpan().ToArray();

    private static int MaxDifference(byte[] a, byte[] b) => a.Zip(b, (x, y) => Math.Abs(x - y)).Max();

    private static byte[] Generate(StableDiffusionPipeline pipeline, GenerationRequest request, int index = 0)
    {
        using var result = pipeline.Generate(request);
        return Pixels(result.Images[index].Image);
    }

    [Fact]
    public void Same_seed_gives_the_same_image_and_batch_image_i_uses_seed_plus_i()
    {
        using var pipeline = new StableDiffusionPipeline(sd1);
        using var batch = pipeline.Generate(Request("a red circle", seed: 100, batch: 2));
        Assert.Equal(2, batch.Images.Count);
        Assert.Equal([100L, 101L], batch.Images.Select(i => i.Seed));
        Assert.Equal((32, 32), (batch.Images[0].Image.Width, batch.Images[0].Image.Height));
        // The same request gives byte-identical images.
        using var repeat = pipeline.Generate(Request("a red circle", seed: 100, batch: 2));
        Assert.Equal(Pixels(batch.Images[1].Image), Pixels(repeat.Images[1].Image));
        // Image i of a batch is the image of seed + i alone (up to float rounding of the batched kernels).
        var first = Generate(pipeline, Request("a red circle", seed: 100));
        var second = Generate(pipeline, Request("a red circle", seed: 101));
        Assert.True(MaxDifference(first, Pixels(batch.Images[0].Image)) <= 2);
        Assert.True(MaxDifference(second, Pixels(batch.Images[1].Image)) <= 2);
        Assert.True(MaxDifference(first, second) > 20);
        Assert.Equal(4 * 2, batch.UnetCalls * 2); // one batched (uncond + cond) pass per step
    }

    [Theory]
    [InlineData("Euler")]
    [InlineData("DDIM")]
    [InlineData("DPM++ 2M Karras")]
    public void Every_sampler_produces_an_image(string sampler)
    {
        using var pipeline = new StableDiffusionPipeline(sd1);
        using var result = pipeline.Generate(Request("a blue square", sampler: sampler));
        Assert.Single(result.Images);
        Assert.Equal(sampler, result.Images[0].Infotext.Sampler);
    }

    [Fact]
    public void Prompt_syntax_changes_conditioning_as_expected()
    {
        using var pipeline = new StableDiffusionPipeline(sd1);
        var plain = Generate(pipeline, Request("a cat"));
        Assert.NotEqual(plain, Generate(pipeline, Request("a dog")));
        Assert.NotEqual(plain, Generate(pipeline, Request("a (cat:1.5)")));
        var scheduled = Generate(pipeline, Request("a [cat:dog:2]"));
        Assert.NotEqual(plain, scheduled);
        Assert.NotEqual(Generate(pipeline, Request("a dog")), scheduled);
        // Extra-network tags are removed from the text: an unknown hypernet only warns.
        using var tagged = pipeline.Generate(Request("a cat <hypernet:nothing:1>"));
        Assert.Equal(plain, Pixels(tagged.Images[0].Image));
        Assert.Contains(tagged.Warnings, w => w.Contains("hypernet", StringComparison.Ordinal));
    }

    [Fact]
    public void Long_prompts_are_encoded_in_several_chunks()
    {
        var conditioner = TextConditioner.ForModel(sd1);
        var longPrompt = string.Join(", ", Enumerable.Range(0, 60).Select(i => $"word{i}"));
        Assert.True(conditioner.ChunkCount(longPrompt) >= 2);
        using var encoded = conditioner.EncodePrompt(longPrompt);
        Assert.Equal(conditioner.ChunkCount(longPrompt) * 77, encoded.Context.shape[1]);
        using var padded = conditioner.EncodePrompt("a cat", 3);
        Assert.Equal(3 * 77, padded.Context.shape[1]);
        using var pipeline = new StableDiffusionPipeline(sd1);
        using var result = pipeline.Generate(Request(longPrompt));
        Assert.Single(result.Images);
    }

    [Fact]
    public void An_embedding_equal_to_a_words_token_vector_reproduces_that_word()
    {
        using var dir = TestPaths.NewTempDir();
        Assert.True(sd1.Tokenizer.TryGetTokenId("cat</w>", out var catId));
        using (var row = sd1.TextEncoder.TokenEmbedding.weight![catId].unsqueeze(0).detach().clone())
        {
            SafetensorsWriter.Save(dir.File("mycat.safetensors"), [new("emb_params", row)]);
        }

        using (var wide = torch.zeros(1, 1024))
        {
            SafetensorsWriter.Save(dir.File("sd2thing.safetensors"), [new("emb_params", wide)]);
        }

        using var pipeline = new StableDiffusionPipeline(sd1, new PipelineOptions { EmbeddingsFolder = dir.Path });
        Assert.Contains(pipeline.LoadWarnings, w => w.Contains("sd2thing.safetensors", StringComparison.Ordinal) && w.Contains("does not fit", StringComparison.Ordinal));
        Assert.Equal(Generate(pipeline, Request("a photo of a cat")), Generate(pipeline, Request("a photo of a mycat")));
    }

    [Fact]
    public void Lora_tags_apply_files_from_the_lora_folder()
    {
        using var dir = TestPaths.NewTempDir();
        string loraHash;
        using (var network = LoraNetwork.Create(new LoraTargets(sd1.Unet, sd1.TextEncoder), new LoraNetworkOptions { Dim = 2, Alpha = 2 }))
        {
            using (no_grad())
            {
                var generator = new Generator(5);
                foreach (var (_, p) in network.named_parameters())
                {
                    p.copy_(torch.randn(p.shape, generator: generator) * 0.5);
                }
            }

            loraHash = KohyaLoraFormat.Save(dir.File("style.safetensors"), network)["sshs_model_hash"];
        }

        using var pipeline = new StableDiffusionPipeline(sd1, new PipelineOptions { LoraFolder = dir.Path });
        var plain = Generate(pipeline, Request("a cat"));
        using var styled = pipeline.Generate(Request("a cat <lora:style:1>"));
        Assert.NotEqual(plain, Pixels(styled.Images[0].Image));
        // A1111's LoRA hash: the file's sshs_model_hash (the data section's hash), not a hash of the whole file.
        Assert.Contains(new KeyValuePair<string, string>("Lora hashes", "style: " + loraHash[..12]), GenerationInfotext.Parse(styled.Images[0].Infotext.ToText()).Extra);
        // Weight 0 changes nothing, and the LoRA is removed after the request.
        Assert.Equal(plain, Generate(pipeline, Request("a cat <lora:style:0>")));
        Assert.Equal(plain, Generate(pipeline, Request("a cat")));
        Assert.Throws<FileNotFoundException>(() => pipeline.Generate(Request("a cat <lora:missing:1>")));

        // lbw= takes the block-weight extension's preset names as well as numbers.
        Assert.Equal(Pixels(styled.Images[0].Image), Generate(pipeline, Request("a cat <lora:style:1:lbw=ALL>")));
        Assert.Equal(plain, Generate(pipeline, Request("a cat <lora:style:1:lbw=NONE>")));
        Assert.Contains("Valid presets", Assert.Throws<PromptSyntaxException>(() => pipeline.Generate(Request("a cat <lora:style:1:lbw=NOPE>"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Img2img_stays_closer_to_the_init_image_at_low_strength()
    {
        using var pipeline = new StableDiffusionPipeline(sd1);
        using var init = new SKBitmap(32, 32);
        init.Erase(new SKColor(200, 40, 40));
        double Distance(double strength)
        {
            using var result = pipeline.Generate(Request("a cat") with { InitImage = init, Strength = strength, Steps = 10 });
            var pixels = result.Images[0].Image.GetPixelSpan();
            double sum = 0;
            for (var i = 0; i < pixels.Length; i += 4)
            {
                sum += Math.Abs(pixels[i] - 200) + Math.Abs(pixels[i + 1] - 40) + Math.Abs(pixels[i + 2] - 40);
            }

            Assert.Equal(strength, result.Images[0].Infotext.DenoisingStrength);
            return sum;
        }

        Assert.True(Distance(0.3) < Distance(1.0));
    }

    [Fact]
    public void Sdxl_generates_with_pooled_embeddings_and_zero_negative()
    {
        using var xl = PipelineModels.Sdxl();
        using var pipeline = new StableDiffusionPipeline(xl);
        var request = Request("a green star") with { NegativePrompt = "", Width = 32, Height = 32 };
        using var result = pipeline.Generate(request);
        Assert.Single(result.Images);
        Assert.Equal(Pixels(result.Images[0].Image), Generate(pipeline, request));
        Assert.NotEqual(Pixels(result.Images[0].Image), Generate(pipeline, request with { NegativePrompt = "blurry" }));
    }

    [Fact]
    public void Sd2_v_prediction_model_generates_and_clip_skip_changes_the_conditioning()
    {
        using var sd2 = PipelineModels.Sd2();
        Assert.Equal(SdTune.Models.PredictionType.VPrediction, sd2.PredictionType);
        using var pipeline = new StableDiffusionPipeline(sd2);
        var request = Request("a yellow heart") with { Sampler = "DDIM" };
        var plain = Generate(pipeline, request);
        Assert.Equal(plain, Generate(pipeline, request));
        using var skipped = pipeline.Generate(request with { ClipSkip = 2 });
        Assert.NotEqual(plain, Pixels(skipped.Images[0].Image));
        Assert.Equal(2, skipped.Images[0].Infotext.ClipSkip);
        // OpenCLIP pads with id 0 after the end token.
        var conditioner = TextConditioner.ForModel(sd2);
        using var encoded = conditioner.EncodePrompt("a yellow heart");
        Assert.Equal(77, encoded.Context.shape[1]);
    }

    [Fact]
    public void Bad_settings_are_refused_with_the_option_named()
    {
        using var pipeline = new StableDiffusionPipeline(sd1);
        Assert.Contains("--width", Assert.Throws<ArgumentException>(() => pipeline.Generate(Request("x") with { Width = 30 })).Message, StringComparison.Ordinal);
        var sampler = Assert.Throws<ArgumentException>(() => pipeline.Generate(Request("x") with { Sampler = "Heun++" }));
        Assert.Contains("Euler a", sampler.Message, StringComparison.Ordinal);
        Assert.Contains("--strength", Assert.Throws<ArgumentException>(() => pipeline.Generate(Request("x") with { InitImage = new SKBitmap(8, 8), Strength = 0 })).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Repeated_generation_leaks_no_tensors()
    {
        using var pipeline = new StableDiffusionPipeline(sd1);
        Generate(pipeline, Request("a cat"));
        var before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Generate(pipeline, Request("a cat"));
        Generate(pipeline, Request("a cat"));
        Assert.InRange(DisposeScopeManager.Statistics.ThreadTotalLiveCount - before, -5, 5);
    }
}
