using SdTune.Tests.Cli;
using SdTune.Training;
using SdTune.Training.Optimization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SdTune.Tests.Training;

/// <summary>Every numeric option of <c>sdtune train</c> is checked in the precision it is used in, with one error line naming it.</summary>
public sealed class TrainingConfigRangeTests
{
    private const string Base = "pretrained_model = \"m\"\noutput_dir = \"o\"\ntrain_data_dir = \"d\"\nmax_train_steps = 10\n";

    /// <summary>Option, bad value (as typed), and what the error line must say about it.</summary>
    public static TheoryData<string, string, string> BadValues => new()
    {
        { "learning_rate", "1e39", "1e+39 is out of range; expected a number >= 0 that fits in float32" },
        { "learning_rate", "3.5e38", "3.5e+38 is out of range" },
        { "learning_rate", "-1e-9", "-1e-09 is out of range" },
        { "learning_rate", "nan", "NaN is out of range" },
        { "learning_rate", "inf", "Infinity is out of range" },
        { "unet_lr", "1e39", "1e+39 is out of range" },
        { "text_encoder_lr", "-1", "-1 is out of range" },
        { "network_dim", "0", "0 is out of range; expected an integer from 1 to 100000" },
        { "network_dim", "100001", "100001 is out of range" },
        { "network_dim", "3000000000", "3000000000 is out of range" },
        { "network_alpha", "0", "0 is out of range; expected a number > 0" },
        { "network_alpha", "1e39", "1e+39 is out of range" },
        { "network_dropout", "1", "1 is out of range; expected a number in [0, 1)" },
        { "network_dropout", "-0.5", "-0.5 is out of range" },
        { "num_class_images", "0", "0 is out of range; expected an integer from 1" },
        { "train_batch_size", "0", "0 is out of range; expected an integer from 1 to 65536" },
        { "train_batch_size", "65537", "65537 is out of range" },
        { "lr_scheduler_num_cycles", "0", "0 is out of range; expected a number > 0 that is finite" },
        { "lr_scheduler_num_cycles", "inf", "Infinity is out of range" },
        { "lr_scheduler_power", "-1", "-1 is out of range" },
        { "lr_scheduler_min_lr_ratio", "1.5", "1.5 is out of range" },
        { "max_train_steps", "0", "0 is out of range; expected an integer from 1 to 2147483647" },
        { "max_train_steps", "2147483648", "2147483648 is out of range" },
        { "max_train_epochs", "-3", "-3 is out of range" },
        { "min_bucket_reso", "0", "0 is out of range; expected an integer from 1" },
        { "max_bucket_reso", "-64", "-64 is out of range" },
        { "bucket_reso_steps", "0", "0 is out of range" },
        { "gradient_accumulation_steps", "0", "0 is out of range; expected an integer from 1 to 65536" },
        { "gradient_accumulation_steps", "2147483647", "2147483647 is out of range" },
        { "max_grad_norm", "1e39", "1e+39 is out of range" },
        { "max_grad_norm", "-1", "-1 is out of range" },
        { "noise_offset", "1e39", "1e+39 is out of range" },
        { "noise_offset", "-0.1", "-0.1 is out of range" },
        { "min_snr_gamma", "0", "0 is out of range" },
        { "min_snr_gamma", "1e39", "1e+39 is out of range" },
        { "prior_loss_weight", "1e39", "1e+39 is out of range" },
        { "clip_skip", "0", "0 is out of range" },
        { "save_every_n_steps", "0", "0 is out of range" },
        { "save_every_n_epochs", "-1", "-1 is out of range" },
        { "sample_every_n_steps", "0", "0 is out of range" },
        { "sample_every_n_epochs", "0", "0 is out of range" },
        { "stop_text_encoder_training", "0", "0 is out of range" },
        { "stop_text_encoder_training", "1e300", "1e+300 is out of range" },
        { "ema_decay", "1.5", "1.5 is out of range; expected a number in [0, 1]" },
        { "ema_decay", "nan", "NaN is out of range" },
        { "resolution", "4", "4 is out of range; expected an integer from 8 to 8192" },
        { "resolution", "100000", "100000 is out of range" },
        { "resolution", "512,0", "0 is out of range" },
        { "resolution", "512x512", "is not a size" },
        { "seed", "9223372036854775808", "expected an integer" },
        { "seed", "abc", "expected an integer" },
        { "network_args", "[\"conv_dim=0\"]", "\"conv_dim=0\": 0 is out of range; expected an integer from 1 to 100000" },
        { "network_args", "[\"conv_dim=1e9\"]", "'1e9' is not an integer" },
        { "network_args", "[\"conv_alpha=1e39\"]", "\"conv_alpha=1e39\": 1e+39 is out of range" },
        { "network_args", "[\"rank_dropout=1\"]", "\"rank_dropout=1\": 1 is out of range" },
        { "network_args", "[\"module_dropout=-1\"]", "-1 is out of range" },
        { "network_args", "[\"dropout=2\"]", "2 is out of range" },
        { "optimizer_args", "[\"weight_decay=1e39\"]", "AdamW weight_decay: 1e+39 is out of range; expected a number >= 0 that fits in float32" },
        { "optimizer_args", "[\"eps=-1\"]", "AdamW epsilon: -1 is out of range" },
        { "optimizer_args", "[\"betas=1.0,0.99\"]", "AdamW beta1 = 1 must be in [0, 1)" },
        { "num_vectors_per_token", "0", "0 is out of range; expected an integer from 1 to 75" },
        { "num_vectors_per_token", "76", "76 is out of range" },
        { "num_new_tokens_per_abstraction", "0", "0 is out of range" },
        { "train_text_encoder_ti_frac", "1.5", "1.5 is out of range" },
        { "embedding_weight_decay", "-1", "-1 is out of range" },
        { "init_r", "0", "0 is out of range; expected an integer from 1 to 100000" },
        { "target_r", "100001", "100001 is out of range" },
        { "tinit", "-1", "-1 is out of range" },
        { "tfinal", "-5", "-5 is out of range" },
        { "deltaT", "0", "0 is out of range; expected an integer from 1" },
        { "beta1", "1", "1 is out of range; expected a number in [0, 1)" },
        { "beta2", "-0.1", "-0.1 is out of range" },
        { "orth_reg_weight", "-1", "-1 is out of range" },
        { "proportion_empty_prompts", "1.5", "1.5 is out of range" },
        { "adapter_num_res_blocks", "0", "0 is out of range" },
        { "adapter_downscale_factor", "65", "65 is out of range" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void A_value_out_of_range_is_one_error_line_naming_the_option_and_the_value(string key, string value, string expected)
    {
        using var dir = TestPaths.NewTempDir();
        var config = dir.File("train.toml");
        File.WriteAllText(config, Base);
        var (code, output, error) = InspectCommandTests.Run("train", "--config", config, $"{key}={value}", "--dry-run");
        Assert.Equal(2, code);
        Assert.Equal("", output);
        var line = Assert.Single(error.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains(key + ": ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_numeric_key_has_a_range_and_a_row_in_the_table()
    {
        var tested = BadValues.Select(row => (string)row[0]).ToHashSet(StringComparer.Ordinal);
        foreach (var key in TrainingConfigKeys.All.Where(k => k.Kind is TrainingConfigKind.Integer or TrainingConfigKind.Real or TrainingConfigKind.Long))
        {
            Assert.True(key.Kind == TrainingConfigKind.Long || key.Range is not null, $"{key.Name} has no range");
            Assert.Contains(key.Name, tested);
        }
    }

    [Fact]
    public void Values_at_the_limits_are_accepted()
    {
        var config = TrainingConfig.Parse(Base).WithOverrides([
            "learning_rate=3.4028234663852886e38", "network_dim=100000", "network_alpha=3.4028234663852886e38", "train_batch_size=65536",
            "gradient_accumulation_steps=65536", "resolution=8,8192", "ema_decay=1", "network_dropout=0.999", "max_train_steps=2147483647",
            "stop_text_encoder_training=2147483647", "noise_offset=0", "seed=-9223372036854775808", "network_args=[\"conv_dim=100000\", \"conv_alpha=1e-30\"]",
        ]);
        config.Validate();
    }

    [Theory]
    [InlineData("a dog --w 30", "sample_prompts:1: --w 30 is out of range; expected a multiple of 8 from 8 to 8192")]
    [InlineData("a dog --h 100000", "sample_prompts:1: --h 100000 is out of range")]
    [InlineData("a dog --l 1e39", "sample_prompts:1: --l 1e+39 is out of range; expected a number >= 0 that fits in float32")]
    [InlineData("a dog --s 0", "sample_prompts:1: --s 0 is out of range")]
    [InlineData("a dog --w wide", "sample_prompts:1: --w 'wide' is not an integer")]
    public void Sample_prompt_numbers_are_checked_as_generate_checks_them(string line, string expected)
    {
        var error = Assert.Throws<TrainingConfigException>(() => SamplePromptFile.Parse(line));
        Assert.Equal("sample_prompts", error.Key);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AdamW_at_the_largest_float32_learning_rate_diverges_instead_of_crashing()
    {
        // lr / (1 - beta1) exceeds float32 at the first step; libtorch refuses such a scalar with an exception.
        using var weight = new Parameter(ones(4));
        weight.grad = ones(4);
        using var optimizer = new AdamWOptimizer([new ParameterGroup("unet", [weight], float.MaxValue)], new AdamWOptions { WeightDecay = 0.5 });
        optimizer.Step();
        Assert.False(weight.isfinite().all().item<bool>());
    }
}
