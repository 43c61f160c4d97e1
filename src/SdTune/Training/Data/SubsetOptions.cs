namespace SdTune.Training.Data;

/// <summary>
/// One <c>[[datasets.subsets]]</c> entry of a kohya-style dataset configuration, with every value resolved
/// (subset, then dataset, then <c>[general]</c>, then the default shown on each property).
/// </summary>
public sealed record SubsetOptions
{
    /// <summary><c>image_dir</c>: the folder of images (required for DreamBooth subsets).</summary>
    public string? ImageDirectory { get; init; }

    /// <summary><c>metadata_file</c>: a fine-tune metadata JSON; its presence makes this a fine-tune subset.</summary>
    public string? MetadataFile { get; init; }

    /// <summary>
    /// A folder of condition images paired with the subset's images by file name (any image extension), as sd-scripts'
    /// ControlNet datasets have them (<c>conditioning_data_dir</c>); null for none.
    /// </summary>
    public string? ConditioningDirectory { get; init; }

    /// <summary><c>num_repeats</c> (1): how many times each image appears per epoch. Subsets below 1 are skipped.</summary>
    public int NumRepeats { get; init; } = 1;

    /// <summary><c>shuffle_caption</c> (false): shuffle the tags that are not kept fixed.</summary>
    public bool ShuffleCaption { get; init; }

    /// <summary><c>caption_separator</c> (","): what separates tags in a caption.</summary>
    public string CaptionSeparator { get; init; } = ",";

    /// <summary><c>keep_tokens</c> (0): the number of leading tags kept in place when shuffling.</summary>
    public int KeepTokens { get; init; }

    /// <summary><c>keep_tokens_separator</c>: text before its first occurrence stays fixed; text after a second one is a fixed suffix.</summary>
    public string? KeepTokensSeparator { get; init; }

    /// <summary><c>secondary_separator</c>: joins tags into a group shuffled and dropped as one; replaced by the caption separator at the end.</summary>
    public string? SecondarySeparator { get; init; }

    /// <summary><c>enable_wildcard</c> (false): keep all caption lines (one picked per step) and expand <c>{a|b}</c>.</summary>
    public bool EnableWildcard { get; init; }

    /// <summary><c>color_aug</c> (false): weak hue/gamma augmentation.</summary>
    public bool ColorAug { get; init; }

    /// <summary><c>flip_aug</c> (false): horizontal flip with probability 1/2.</summary>
    public bool FlipAug { get; init; }

    /// <summary><c>face_crop_aug_range</c>: the legacy face-crop range <c>[lo, hi]</c>.</summary>
    public (double Low, double High)? FaceCropAugRange { get; init; }

    /// <summary><c>random_crop</c> (false): crop at a random offset instead of the centre.</summary>
    public bool RandomCrop { get; init; }

    /// <summary><c>caption_prefix</c>: prepended with a space.</summary>
    public string? CaptionPrefix { get; init; }

    /// <summary><c>caption_suffix</c>: appended with a space.</summary>
    public string? CaptionSuffix { get; init; }

    /// <summary><c>token_warmup_min</c> (1): the number of tags used at step 0 during token warm-up.</summary>
    public int TokenWarmupMin { get; init; } = 1;

    /// <summary><c>token_warmup_step</c> (0): the step at which all tags are used; below 1 it is a fraction of the total steps.</summary>
    public double TokenWarmupStep { get; init; }

    /// <summary><c>caption_dropout_rate</c> (0): probability that the caption becomes empty.</summary>
    public double CaptionDropoutRate { get; init; }

    /// <summary><c>caption_dropout_every_n_epochs</c> (0): every n-th epoch all captions are empty.</summary>
    public int CaptionDropoutEveryNEpochs { get; init; }

    /// <summary><c>caption_tag_dropout_rate</c> (0): probability that each non-fixed tag is dropped.</summary>
    public double CaptionTagDropoutRate { get; init; }

    /// <summary><c>caption_extension</c> (".caption"): the caption file next to each image is <c>&lt;basename&gt;&lt;ext&gt;</c>.</summary>
    public string CaptionExtension { get; init; } = ".caption";

    /// <summary><c>class_tokens</c>: the caption of images that have no caption file.</summary>
    public string? ClassTokens { get; init; }

    /// <summary><c>cache_info</c> (false): kohya caches sizes and captions in the image folder; accepted, not used (sizes are read quickly).</summary>
    public bool CacheInfo { get; init; }

    /// <summary><c>is_reg</c> (false): regularisation (prior-preservation) images.</summary>
    public bool IsReg { get; init; }

    /// <summary><c>alpha_mask</c> (false): use the image's alpha channel as a loss mask.</summary>
    public bool AlphaMask { get; init; }

    /// <summary><c>resize_interpolation</c>: the resampling filter; null for the default (area down, lanczos up).</summary>
    public ResizeInterpolation? ResizeInterpolation { get; init; }

    /// <summary><c>custom_attributes</c>: free-form values (for example <c>diff_output_preservation = true</c>).</summary>
    public IReadOnlyDictionary<string, object> CustomAttributes { get; init; } = new Dictionary<string, object>();

    /// <summary>True for a fine-tune subset (one with <see cref="MetadataFile"/>).</summary>
    public bool IsFineTune => MetadataFile is not null;
}
