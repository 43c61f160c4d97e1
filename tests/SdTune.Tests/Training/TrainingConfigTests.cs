using SdTune.Training;
using SdTune.Training.Methods;
using SdTune.Training.Optimization;

namespace SdTune.Tests.Training;

public sealed class TrainingConfigTests
{
    private const string Valid = """
        [model_arguments]
        pretrained_model = "models/base.safetensors"

        [training_arguments]
        output_dir = "out"
        output_name = "mychar"
        train_data_dir = "data"
        resolution = "512,768"
        network_dim = 16
        network_alpha = 8
        network_args = ["conv_dim=4", "conv_alpha=1"]
        learning_rate = 1e-4
        unet_lr = 2e-4
        text_encoder_lr = 5e-5
        optimizer_type = "adamw"
        optimizer_args = ["weight_decay=0.1", "betas=0.9,0.99"]
        lr_scheduler = "cosine"
        lr_warmup_steps = "10%"
        max_train_steps = 100
        gradient_accumulation_steps = 2
        mixed_precision = "bf16"
        seed = 7
        min_snr_gamma = 5
        """;

    [Fact]
    public void A_kohya_style_file_is_read_with_paths_resolved_against_its_folder()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("train.toml");
        File.WriteAllText(path, Valid);
        var config = TrainingConfig.Load(path);
        Assert.Equal(Path.Combine(dir.Path, "models", "base.safetensors"), config.PretrainedModel);
        Assert.Equal(Path.Combine(dir.Path, "out"), config.OutputDir);
        Assert.Equal(new SdTune.Training.Data.PixelSize(512, 768), config.ResolutionSize);
        Assert.Equal(16, LoraMethod.NetworkDim.Value(config));
        Assert.Equal(8.0, LoraMethod.NetworkAlpha.Value(config));
        Assert.Equal(["conv_dim=4", "conv_alpha=1"], LoraMethod.NetworkArgs.Value(config));
        Assert.Equal(MixedPrecision.BFloat16, config.MixedPrecision);
        Assert.Equal(5.0, config.MinSnrGamma);
        config.Validate();
    }

    [Fact]
    public void Overrides_apply_on_top_and_are_validated_the_same_way()
    {
        var config = TrainingConfig.Parse(Valid).WithOverrides(["learning_rate=3e-4", "output_name=other", "save_state=true", "network_args=conv_dim=8", "clip_skip=2"]);
        Assert.Equal(3e-4, config.LearningRate);
        Assert.Equal("other", config.OutputName);
        Assert.True(config.SaveState);
        Assert.Equal(["conv_dim=8"], LoraMethod.NetworkArgs.Value(config));
        Assert.Equal(2, config.ClipSkip);
        Assert.Equal("2024-01-01", config.WithOverrides(["output_name=2024-01-01"]).OutputName);
        Assert.Equal("quoted name", config.WithOverrides(["output_name=\"quoted name\""]).OutputName);
        Assert.Equal(["a=1", "b=2"], config.WithOverrides(["optimizer_args=[\"a=1\", \"b=2\"]"]).OptimizerArgs);

        Assert.Equal("learning_rate", Assert.Throws<TrainingConfigException>(() => config.WithOverrides(["learning_rate=fast"])).Key);
        Assert.Equal("no_such_key", Assert.Throws<TrainingConfigException>(() => config.WithOverrides(["no_such_key=1"])).Key);
        Assert.Equal("max_train_steps", Assert.Throws<TrainingConfigException>(() => config.WithOverrides(["max_train_steps=0"]).Validate()).Key);
        Assert.Contains("key=value", Assert.Throws<TrainingConfigException>(() => config.WithOverrides(["learning_rate"])).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("learning_rate = \"high\"", "learning_rate", "expected a number")]
    [InlineData("network_dim = 1.5", "network_dim", "expected an integer")]
    [InlineData("mixed_precision = \"fp8\"", "mixed_precision", "not a precision")]
    [InlineData("unknown_thing = 1", "unknown_thing", "unknown key")]
    [InlineData("network_alph = 1", "network_alph", "did you mean network_alpha")]
    public void Parse_errors_name_the_key(string line, string key, string message)
    {
        var error = Assert.Throws<TrainingConfigException>(() => TrainingConfig.Parse(line));
        Assert.Equal(key, error.Key);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pretrained_model=", "pretrained_model")]
    [InlineData("output_dir=", "output_dir")]
    [InlineData("method=textual_inversion", "method")]
    [InlineData("resolution=512x512", "resolution")]
    [InlineData("network_dim=0", "network_dim")]
    [InlineData("network_dropout=1.0", "network_dropout")]
    [InlineData("optimizer_type=SGD", "optimizer_type")]
    [InlineData("lr_scheduler=inverse_sqrt", "lr_scheduler")]
    [InlineData("lr_warmup_steps=abc", "lr_warmup_steps")]
    [InlineData("gradient_accumulation_steps=0", "gradient_accumulation_steps")]
    [InlineData("max_grad_norm=-1", "max_grad_norm")]
    [InlineData("save_precision=fp64", "save_precision")]
    [InlineData("min_snr_gamma=0", "min_snr_gamma")]
    [InlineData("clip_skip=0", "clip_skip")]
    [InlineData("sample_every_n_steps=10", "sample_prompts")]
    [InlineData("save_model_as=ckpt", "save_model_as")]
    [InlineData("instance_data_dir=x", "train_data_dir")]
    [InlineData("with_prior_preservation=true", "with_prior_preservation")]
    [InlineData("network_args=conv_dim", "network_args")]
    [InlineData("optimizer_args=beta1", "optimizer_args")]
    public void Validation_errors_name_the_key(string change, string key)
    {
        var config = TrainingConfig.Parse(Valid).WithOverrides([change]);
        var error = Assert.Throws<TrainingConfigException>(config.Validate);
        Assert.Equal(key, error.Key);
        Assert.StartsWith(key + ": ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DreamBooth_folders_need_their_prompts()
    {
        var config = new TrainingConfig { Method = "dreambooth", PretrainedModel = "m", OutputDir = "o", InstanceDataDir = "i", InstancePrompt = "sks", MaxTrainSteps = 1, WithPriorPreservation = true };
        Assert.Equal("class_data_dir", Assert.Throws<TrainingConfigException>(config.Validate).Key);
        Assert.Equal("class_prompt", Assert.Throws<TrainingConfigException>((config with { ClassDataDir = "c" }).Validate).Key);
        (config with { ClassDataDir = "c", ClassPrompt = "dog" }).Validate();
    }

    [Fact]
    public void The_resolved_toml_reads_back_to_the_same_configuration()
    {
        var config = TrainingConfig.Parse(Valid, "train.toml", "/base").WithOverrides(["noise_offset=0.05", "sample_prompts=p.txt", "v_parameterization=true", "instance_prompt=say \"hi\"\\now"]);
        var text = config.ToToml();
        var back = TrainingConfig.Parse(text);
        Assert.Equal(text, back.ToToml());
        Assert.Equal(config.NoiseOffset, back.NoiseOffset);
        Assert.Equal(config.InstancePrompt, back.InstancePrompt);
        Assert.Equal(true, back.VParameterization);
        Assert.Contains("lr_warmup_steps = \"10%\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("resume", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Release_freed_memory_follows_gradient_checkpointing_unless_set()
    {
        var config = TrainingConfig.Parse(Valid, "train.toml", "/base");
        Assert.Null(config.ReleaseFreedMemory);
        var off = config.WithOverrides(["gradient_checkpointing=true", "release_freed_memory=false"]);
        Assert.False(off.ReleaseFreedMemory);
        Assert.False(TrainingConfig.Parse(off.ToToml()).ReleaseFreedMemory);
        Assert.True(config.WithOverrides(["release_freed_memory=true"]).ReleaseFreedMemory);
        Assert.Equal("release_freed_memory", Assert.Throws<TrainingConfigException>(() => config.WithOverrides(["release_freed_memory=maybe"])).Key);
    }

    [Fact]
    public void The_trainer_writes_the_resolved_configuration_into_the_output_folder()
    {
        using var dir = TestPaths.NewTempDir();
        var config = TrainingTestKit.LoraConfig(dir.Path, steps: 1).With(LoraMethod.NetworkDim, 2) with { Resolution = null, NumClassImages = 7 };
        using var model = TrainingTestKit.TinyModel();
        new Trainer(config, new TrainerServices { Model = model }).Run();
        var written = File.ReadAllText(Path.Combine(config.OutputDir!, "config.resolved.toml"));
        Assert.Equal(config.Resolve(model).ToToml(), written);
        var back = TrainingConfig.Parse(written);
        Assert.Equal(2, LoraMethod.NetworkDim.Value(back));
        Assert.Equal(TrainingTestKit.FixtureModelSize().ToString(System.Globalization.CultureInfo.InvariantCulture), back.Resolution);
        Assert.Equal(100, back.NumClassImages);
        Assert.Contains("# num_class_images = 7  (needs with_prior_preservation)", written, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_key_names_the_file_or_override_and_the_nearest_valid_key()
    {
        using var dir = TestPaths.NewTempDir();
        var path = dir.File("train.toml");
        File.WriteAllText(path, "network_dim = 4\n[training_arguments]\nnetwrok_dim = 8\n");
        var inFile = Assert.Throws<TrainingConfigException>(() => TrainingConfig.Load(path));
        Assert.Equal($"{path}: netwrok_dim: unknown key; did you mean network_dim?", inFile.Message);
        Assert.Equal(("netwrok_dim", path), (inFile.Key, inFile.Origin));

        var overridden = Assert.Throws<TrainingConfigException>(() => new TrainingConfig().WithOverrides(["learnig-rate=1e-4"]));
        Assert.Equal("override: learnig_rate: unknown key; did you mean learning_rate?", overridden.Message);
        Assert.Equal("override: xyzzy: unknown key.", Assert.Throws<TrainingConfigException>(() => new TrainingConfig().WithOverrides(["xyzzy=1"])).Message);
        Assert.Equal("override: lr: unknown key.", Assert.Throws<TrainingConfigException>(() => new TrainingConfig().WithOverrides(["lr=1"])).Message);
    }

    [Theory]
    [InlineData("netwrok_dim", "network_dim", 1)]
    [InlineData("network_dim", "network_dim", 0)]
    [InlineData("noise_ofset", "noise_offset", 1)]
    [InlineData("seed", "sedd", 1)]
    [InlineData("abc", "xyz", 3)]
    public void Edit_distance_counts_swaps_of_neighbouring_letters_as_one(string a, string b, int distance)
    {
        Assert.Equal(distance, SdTune.Options.NearestNames.Distance(a, b));
    }

    [Fact]
    public void Optimizer_arguments_become_the_optimizer_options()
    {
        var options = Assert.IsType<AdamWOptions>(OptimizerArguments.Create("adamw", ["weight_decay=0.1", "betas=(0.8, 0.95)", "eps=1e-6"]));
        Assert.Equal(0.1, options.WeightDecay);
        Assert.Equal(0.8, options.Beta1);
        Assert.Equal(0.95, options.Beta2);
        Assert.Equal(1e-6, options.Epsilon);
        var error = Assert.Throws<TrainingConfigException>(() => OptimizerArguments.Create("Lion", ["eps=1e-6"]));
        Assert.Equal("optimizer_args", error.Key);
        Assert.Contains("weight_decay", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Sample_prompt_lines_follow_the_kohya_options()
    {
        var prompts = SamplePromptFile.Parse("# x\nmasterpiece, 1girl --n lowres, bad --w 768 --h 512 --s 2000 --l 5 --d 42 --ss euler\nplain\n");
        Assert.Equal(2, prompts.Count);
        Assert.Equal(new SamplePrompt("masterpiece, 1girl", "lowres, bad", 768, 512, 1000, 5, 42), prompts[0]);
        Assert.Equal(new SamplePrompt("plain"), prompts[1]);
        Assert.Equal("sample_prompts", Assert.Throws<TrainingConfigException>(() => SamplePromptFile.Parse("x --w big")).Key);
    }
}
