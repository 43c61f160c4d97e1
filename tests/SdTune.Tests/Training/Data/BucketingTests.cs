using SdTune.Training.Data;

namespace SdTune.Tests.Training.Data;

public class BucketingTests
{
    private static PixelSize P(int w, int h) => new(w, h);

    [Fact]
    public void Predefined_buckets_for_512_steps_64_match_the_hand_derived_list()
    {
        // Area 262144: square 512; width 256..1024 step 64 gives heights
        // 1024, 768, 640, 576, 512, 448, 384, 320, 320, 256, 256, 256, 256 (each with its transpose).
        PixelSize[] expected =
        [
            P(256, 832), P(256, 896), P(256, 960), P(256, 1024), P(320, 704), P(320, 768), P(384, 640), P(448, 576),
            P(512, 512), P(576, 448), P(640, 384), P(704, 320), P(768, 320), P(832, 256), P(896, 256), P(960, 256), P(1024, 256),
        ];
        Assert.Equal(expected, BucketResolutions.Make(P(512, 512), 256, 1024, 64));
    }

    [Fact]
    public void Sdxl_style_buckets_keep_the_area_and_the_step()
    {
        var buckets = BucketResolutions.Make(P(1024, 1024), 512, 2048, 32);
        Assert.Contains(P(1024, 1024), buckets);
        Assert.Contains(P(1152, 896), buckets);
        Assert.Contains(P(896, 1152), buckets);
        Assert.All(buckets, b => Assert.True(b.Width % 32 == 0 && b.Height % 32 == 0 && b.Area <= 1024 * 1024));
    }

    private static BucketAssigner Predefined() => BucketAssigner.For(new DatasetOptions
    {
        Resolution = P(512, 512), EnableBucket = true, MinBucketReso = 256, MaxBucketReso = 1024, BucketResoSteps = 64,
    });

    [Fact]
    public void Images_go_to_the_closest_aspect_ratio_and_are_scaled_to_cover_it()
    {
        var assigner = Predefined();

        // 800x600 (AR 1.333): closest 576x448 (1.286); height matches: scale 448/600, width round(597.33) = 597.
        var a = assigner.Assign(P(800, 600));
        Assert.Equal(P(576, 448), a.Bucket);
        Assert.Equal(P(597, 448), a.ResizedSize);
        Assert.Equal((576.0 / 448) - (800.0 / 600), a.AspectRatioError, 12);
        Assert.Equal(new PixelRect(10, 0, 576, 448), a.CenterCrop());

        // 300x1000 (AR 0.3): closest 256x832 (0.3077); width matches: scale 256/300, height round(853.33) = 853.
        var b = assigner.Assign(P(300, 1000));
        Assert.Equal(P(256, 832), b.Bucket);
        Assert.Equal(P(256, 853), b.ResizedSize);
        Assert.Equal(new PixelRect(0, 10, 256, 832), b.CenterCrop());

        // An image whose size is a bucket keeps it; a small square is upscaled to 512.
        Assert.Equal(new BucketAssignment(P(448, 576), P(448, 576), (448.0 / 576) - (448.0 / 576)), assigner.Assign(P(448, 576)));
        Assert.Equal(P(512, 512), assigner.Assign(P(64, 64)).ResizedSize);
    }

    [Fact]
    public void No_upscale_rounds_on_the_side_with_the_smaller_aspect_error()
    {
        var assigner = BucketAssigner.For(new DatasetOptions { Resolution = P(512, 512), EnableBucket = true, BucketNoUpscale = true, BucketResoSteps = 64 });

        // 1000x500: width-rounding gives 704x320 (AR 2.2), height-rounding 640x320 (AR 2.0): height wins.
        var wide = assigner.Assign(P(1000, 500));
        Assert.Equal(P(640, 320), wide.ResizedSize);
        Assert.Equal(P(640, 320), wide.Bucket);

        // 300x1000: width-rounding gives 256x832 (0.3077), height-rounding 256x896 (0.2857): width wins,
        // resized (256, round(853.33)) = 256x853, bucket rounded down to 256x832 and cropped.
        var tall = assigner.Assign(P(300, 1000));
        Assert.Equal(P(256, 853), tall.ResizedSize);
        Assert.Equal(P(256, 832), tall.Bucket);

        // Smaller than the area: never enlarged, the bucket is the size rounded down to the step.
        var small = assigner.Assign(P(300, 200));
        Assert.Equal(P(300, 200), small.ResizedSize);
        Assert.Equal(P(256, 192), small.Bucket);
        Assert.Equal(new PixelRect(22, 4, 256, 192), small.CenterCrop());
    }

    [Fact]
    public void Without_bucketing_every_image_covers_the_single_resolution()
    {
        var assigner = BucketAssigner.For(new DatasetOptions { Resolution = P(512, 512) });
        var a = assigner.Assign(P(1000, 500));
        Assert.Equal(P(512, 512), a.Bucket);
        Assert.Equal(P(1024, 512), a.ResizedSize);
        Assert.Equal(new PixelRect(256, 0, 512, 512), a.CenterCrop());
    }

    [Fact]
    public void Random_crop_draws_each_offset_in_range()
    {
        var a = Predefined().Assign(P(800, 600));
        Assert.Equal(new PixelRect(21, 0, 576, 448), a.RandomCrop(new ScriptedRandom(ints: [21, 0])));
        Assert.Throws<InvalidOperationException>(() => a.RandomCrop(new ScriptedRandom(ints: [22, 0])));
    }

    [Fact]
    public void Sdxl_conditioning_follows_the_stability_crop_rule_and_mirrors_when_flipped()
    {
        // Bucket 576x448 is narrower than 800x600: fitted 576x432, top (448-432)//2 = 8.
        Assert.Equal(new SdxlConditioning(P(800, 600), 8, 0, P(576, 448)), SdxlConditioning.Compute(P(800, 600), P(576, 448), false));

        // Bucket 256x832 is wider than 300x1000: fitted 249.6x832, left (256-249.6)//2 = 3; flipped left 256-(3+249.6) = 3.4 -> 3.
        Assert.Equal(new SdxlConditioning(P(300, 1000), 0, 3, P(256, 832)), SdxlConditioning.Compute(P(300, 1000), P(256, 832), false));
        Assert.Equal(3, SdxlConditioning.Compute(P(300, 1000), P(256, 832), true).CropLeft);

        // An odd margin: 211 wide in 256 gives left 45//2 = 22, and the mirrored left is 256-(22+211) = 23.
        Assert.Equal(22, SdxlConditioning.Compute(P(211, 832), P(256, 832), false).CropLeft);
        Assert.Equal(23, SdxlConditioning.Compute(P(211, 832), P(256, 832), true).CropLeft);
    }
}
