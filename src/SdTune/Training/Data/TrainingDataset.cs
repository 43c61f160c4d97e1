namespace SdTune.Training.Data;

/// <summary>
/// The images of a dataset configuration, bucketed and balanced, and the samples of every epoch.
/// An epoch's batches are a pure function of (seed, epoch): each bucket's images (repeated) are shuffled and cut
/// into batches of the dataset's batch size, then the batch list is shuffled; flips, random crops and caption
/// randomness are drawn per (seed, epoch, batch, position). A run is therefore reproducible, and a resumed run can
/// skip straight to any step (<see cref="Locate"/>).
/// </summary>
public sealed class TrainingDataset
{
    private const long OrderStream = 0;
    private const long SampleStream = 1;

    private readonly List<Part> _parts;

    private TrainingDataset(DatasetConfig config, long seed, List<Part> parts, List<string> warnings)
    {
        Config = config;
        Seed = seed;
        _parts = parts;
        Warnings = warnings;
        Images = parts.SelectMany(p => p.Images).ToList();
        BatchesPerEpoch = parts.Sum(p => p.Buckets.Sum(b => (b.Count + p.Options.BatchSize - 1) / p.Options.BatchSize));
        SamplesPerEpoch = parts.Sum(p => p.Images.Sum(i => i.Repeats));
        Summary = DatasetSummary.Create(this, parts.Select(p => p.Subsets.Select(s => s.Summary).ToList()).ToList());
    }

    /// <summary>The configuration the dataset was built from.</summary>
    public DatasetConfig Config { get; }

    /// <summary>The seed of all shuffling and augmentation.</summary>
    public long Seed { get; }

    /// <summary>Warnings found while building (skipped folders, unused regularisation images, missing captions...).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Every registered image (training and regularisation), datasets and subsets in order, paths sorted.</summary>
    public IReadOnlyList<TrainingImage> Images { get; }

    /// <summary>The number of batches (steps) in every epoch.</summary>
    public int BatchesPerEpoch { get; }

    /// <summary>The number of samples in every epoch (images × repeats, regularisation included).</summary>
    public int SamplesPerEpoch { get; }

    /// <summary>A printable summary of images, repeats and buckets.</summary>
    public DatasetSummary Summary { get; }

    /// <summary>Each dataset's <c>bucket_info</c> metadata; null for a dataset without bucketing.</summary>
    public IReadOnlyList<BucketInfo?> BucketInfos => _parts.Select(p => p.BucketInfo).ToList();

    /// <summary>Discovers images and captions, reads sizes, assigns buckets and balances regularisation images.</summary>
    /// <param name="config">The dataset configuration.</param>
    /// <param name="reader">Reads image sizes.</param>
    /// <param name="seed">The seed of all shuffling and augmentation.</param>
    /// <exception cref="DatasetConfigException">A subset's folder is missing, or no training image was found.</exception>
    /// <exception cref="DatasetException">An image or caption cannot be used; the message names the file.</exception>
    public static TrainingDataset Build(DatasetConfig config, IImageReader reader, long seed)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(reader);
        var warnings = new List<string>();
        var parts = new List<Part>();
        for (var d = 0; d < config.Datasets.Count; d++)
        {
            parts.Add(Part.Build(config, d, reader, warnings));
        }

        if (!parts.Any(p => p.Images.Any(i => !i.IsReg)))
        {
            throw new DatasetConfigException($"{config.Source}: no training images found in any subset.");
        }

        return new TrainingDataset(config, seed, parts, warnings);
    }

    /// <summary>Which epoch and batch a global step (from 0) falls in; epochs count from 1.</summary>
    /// <param name="globalStep">The number of batches already consumed.</param>
    public (int Epoch, int BatchIndex) Locate(long globalStep)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(globalStep);
        return ((int)(globalStep / BatchesPerEpoch) + 1, (int)(globalStep % BatchesPerEpoch));
    }

    /// <summary>The batches of one epoch, with every sample's crop, flip and processed caption.</summary>
    /// <param name="epoch">The epoch, from 1.</param>
    /// <param name="maxTrainSteps">The run's total steps (only for a fractional <c>token_warmup_step</c>).</param>
    public IReadOnlyList<TrainingBatch> GetEpoch(int epoch, int maxTrainSteps = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epoch, 1);
        var order = SeededRandom.For(Seed, OrderStream, epoch);
        var slots = new List<(Part Part, Bucket Bucket, List<int> Images)>();
        foreach (var part in _parts)
        {
            foreach (var bucket in part.Buckets)
            {
                var entries = new List<int>(bucket.Count);
                foreach (var image in bucket.ImageIndices)
                {
                    entries.AddRange(Enumerable.Repeat(image, part.Images[image].Repeats));
                }

                order.Shuffle(entries);
                for (var start = 0; start < entries.Count; start += part.Options.BatchSize)
                {
                    slots.Add((part, bucket, entries.GetRange(start, Math.Min(part.Options.BatchSize, entries.Count - start))));
                }
            }
        }

        order.Shuffle(slots);
        var batches = new List<TrainingBatch>(slots.Count);
        for (var b = 0; b < slots.Count; b++)
        {
            var (part, bucket, images) = slots[b];
            var context = new CaptionContext(epoch, ((epoch - 1) * BatchesPerEpoch) + b, maxTrainSteps);
            var samples = new List<TrainingSample>(images.Count);
            for (var position = 0; position < images.Count; position++)
            {
                var random = SeededRandom.For(Seed, SampleStream, epoch, b, position);
                samples.Add(part.MakeSample(images[position], context, random, Config.PriorLossWeight));
            }

            batches.Add(new TrainingBatch(b, part.Index, bucket.Resolution, samples));
        }

        return batches;
    }

    /// <summary>All samples of one epoch in training order (the batches of <see cref="GetEpoch"/> concatenated).</summary>
    /// <param name="epoch">The epoch, from 1.</param>
    /// <param name="maxTrainSteps">The run's total steps (only for a fractional <c>token_warmup_step</c>).</param>
    public IReadOnlyList<TrainingSample> GetEpochSamples(int epoch, int maxTrainSteps = 0) =>
        GetEpoch(epoch, maxTrainSteps).SelectMany(b => b.Samples).ToList();

    private sealed record Bucket(PixelSize Resolution, List<int> ImageIndices, int Count);

    private sealed record SubsetState(SubsetOptions Options, CaptionProcessor Captions, SubsetSummary Summary);

    /// <summary>One <c>[[datasets]]</c> block's images and buckets.</summary>
    private sealed class Part
    {
        private Part(int index, DatasetOptions options, List<SubsetState> subsets, List<TrainingImage> images, List<Bucket> buckets, BucketInfo? bucketInfo)
        {
            Index = index;
            Options = options;
            Subsets = subsets;
            Images = images;
            Buckets = buckets;
            BucketInfo = bucketInfo;
        }

        public int Index { get; }

        public DatasetOptions Options { get; }

        public List<SubsetState> Subsets { get; }

        public List<TrainingImage> Images { get; }

        public List<Bucket> Buckets { get; }

        public BucketInfo? BucketInfo { get; }

        public static Part Build(DatasetConfig config, int index, IImageReader reader, List<string> warnings)
        {
            var options = config.Datasets[index];
            var assigner = BucketAssigner.For(options);
            if (options.EnableBucket && options.BucketNoUpscale)
            {
                warnings.Add($"[[datasets]] #{index + 1}: min_bucket_reso and max_bucket_reso are ignored with bucket_no_upscale (buckets follow the image sizes).");
            }

            if (options.ValidationSplit > 0)
            {
                warnings.Add($"[[datasets]] #{index + 1}: validation_split is not applied by the data layer; all images are used for training.");
            }

            var subsets = new List<SubsetState>();
            var trainImages = new List<TrainingImage>();
            var regImages = new List<TrainingImage>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var trainCount = 0;
            var regCount = 0;
            for (var s = 0; s < options.Subsets.Count; s++)
            {
                var subset = options.Subsets[s];
                var label = $"[[datasets.subsets]] #{index + 1}.{s + 1}";
                var name = subset.MetadataFile ?? subset.ImageDirectory!;
                if (subset.NumRepeats < 1)
                {
                    warnings.Add($"{label} ({name}): ignored: num_repeats is {subset.NumRepeats} (less than 1).");
                    continue;
                }

                if (!seen.Add((subset.IsFineTune ? "metadata:" : "dir:") + Path.GetFullPath(name)))
                {
                    warnings.Add($"{label} ({name}): ignored: the same {(subset.IsFineTune ? "metadata_file" : "image_dir")} is already used in this dataset.");
                    continue;
                }

                if (subset.FaceCropAugRange is not null)
                {
                    warnings.Add($"{label} ({name}): face_crop_aug_range is a legacy option and is not applied.");
                }

                var found = Entries(subset, label, warnings);
                if (found.Count == 0)
                {
                    warnings.Add($"{label} ({name}): ignored: no images found.");
                    continue;
                }

                var usable = 0;
                foreach (var (path, caption, conditioning) in found)
                {
                    PixelSize size;
                    try
                    {
                        size = reader.Probe(path);
                    }
                    catch (DatasetException e)
                    {
                        // An unreadable image is skipped, named; the run fails only if nothing usable is left.
                        warnings.Add($"{label} ({name}): skipping unreadable image: {e.Message}");
                        continue;
                    }

                    var image = new TrainingImage(path, index, s, caption, size, subset.NumRepeats, subset.IsReg, assigner.Assign(size), conditioning ?? ConditioningImageOf(subset, label, path, config.RequireConditioning));
                    (subset.IsReg ? regImages : trainImages).Add(image);
                    usable++;
                }

                if (usable == 0)
                {
                    warnings.Add($"{label} ({name}): ignored: none of its {found.Count} images can be read.");
                    continue;
                }

                if (subset.IsReg)
                {
                    regCount += usable * subset.NumRepeats;
                }
                else
                {
                    trainCount += usable * subset.NumRepeats;
                }

                subsets.Add(new SubsetState(subset, new CaptionProcessor(subset), new SubsetSummary(index, s, name, usable, subset.NumRepeats, subset.IsReg, subset.ClassTokens)));
            }

            var images = new List<TrainingImage>(trainImages);
            images.AddRange(BalanceRegularisation(regImages, trainCount, regCount, index, warnings));
            return Bucketize(index, options, subsets, images);
        }

        public TrainingSample MakeSample(int imageIndex, CaptionContext context, IRandomSource random, double priorLossWeight)
        {
            var image = Images[imageIndex];
            var state = Subsets.First(s => s.Summary.SubsetIndex == image.SubsetIndex);
            var subset = state.Options;
            var flip = subset.FlipAug && random.NextDouble() < 0.5;
            var crop = subset.RandomCrop ? image.Assignment.RandomCrop(random) : image.Assignment.CenterCrop();
            var caption = state.Captions.Process(image.Caption, context, random);
            return new TrainingSample
            {
                ImagePath = image.Path,
                ConditioningImagePath = image.ConditioningPath,
                DatasetIndex = Index,
                SubsetIndex = image.SubsetIndex,
                Bucket = image.Assignment.Bucket,
                ResizedSize = image.Assignment.ResizedSize,
                Crop = crop,
                Flip = flip,
                Caption = caption,
                LossWeight = image.IsReg ? priorLossWeight : 1.0,
                IsReg = image.IsReg,
                NetworkMultiplier = Options.NetworkMultiplier,
                AlphaMask = subset.AlphaMask,
                ColorAug = subset.ColorAug,
                ResizeInterpolation = subset.ResizeInterpolation,
                Conditioning = SdxlConditioning.Compute(image.Size, image.Assignment.Bucket, flip),
            };
        }

        /// <summary>
        /// The condition image paired with <paramref name="path"/> (same file stem, any image extension, in the subset's
        /// conditioning folder), or null without a conditioning folder unless <paramref name="required"/>.
        /// </summary>
        /// <exception cref="DatasetConfigException">The folder has no image of that name, or the subset has no condition images but they are required.</exception>
        private static string? ConditioningImageOf(SubsetOptions subset, string label, string path, bool required)
        {
            if (subset.ConditioningDirectory is not { } folder)
            {
                return required
                    ? throw new DatasetConfigException($"{label} ({subset.MetadataFile ?? subset.ImageDirectory}): no condition image for {path}: give the subset conditioning_data_dir (or a metadata.jsonl with conditioning_file_name).")
                    : null;
            }

            var stem = Path.GetFileNameWithoutExtension(path);
            return ImageFiles.Extensions.Select(e => Path.Combine(folder, stem + e)).FirstOrDefault(File.Exists)
                ?? throw new DatasetConfigException($"{label}: no condition image for {path}: expected {Path.Combine(folder, stem + ImageFiles.Extensions[0])} (or {stem} with one of {string.Join(", ", ImageFiles.Extensions.Skip(1))}) in conditioning_data_dir {folder}.");
        }

        /// <summary>The images a subset lists: a <c>metadata.jsonl</c>, sd-scripts' fine-tune metadata JSON, or a DreamBooth folder with caption files.</summary>
        private static List<DatasetEntry> Entries(SubsetOptions subset, string label, List<string> warnings) =>
            subset.MetadataFile is { } metadata && ImageFolderMetadata.IsJsonLines(metadata) ? ImageFolderMetadata.Read(metadata)
            : subset.IsFineTune ? [.. FineTuneMetadata.Read(subset).Select(e => new DatasetEntry(e.Path, e.Caption))]
            : [.. ReadDreamBoothFolder(subset, label, warnings).Select(e => new DatasetEntry(e.Path, e.Caption))];

        private static List<(string Path, string Caption)> ReadDreamBoothFolder(SubsetOptions subset, string label, List<string> warnings)
        {
            var directory = subset.ImageDirectory!;
            if (!Directory.Exists(directory))
            {
                throw new DatasetConfigException($"{label}: key 'image_dir': folder not found: {directory}");
            }

            var result = new List<(string, string)>();
            var missing = new List<string>();
            foreach (var path in ImageFiles.List(directory))
            {
                var caption = CaptionFiles.Read(path, subset.CaptionExtension, subset.EnableWildcard);
                if (caption is null)
                {
                    if (string.IsNullOrEmpty(subset.ClassTokens))
                    {
                        throw new DatasetException(path, $"no caption file ({string.Join(" or ", CaptionFiles.Candidates(path, subset.CaptionExtension).Select(Path.GetFileName))}) and no class_tokens for {label}.");
                    }

                    caption = subset.ClassTokens;
                    missing.Add(path);
                }

                result.Add((path, caption));
            }

            if (missing.Count > 0)
            {
                var shown = string.Join(", ", missing.Take(5).Select(Path.GetFileName));
                var more = missing.Count > 5 ? $" and {missing.Count - 5} more" : "";
                warnings.Add($"{label} ({directory}): {missing.Count} image(s) have no '{subset.CaptionExtension}' caption file and use class_tokens \"{subset.ClassTokens}\": {shown}{more}.");
            }

            return result;
        }

        // Reg images are registered (with their repeats) until they match the training count; if they fall short,
        // extra repeats are handed out one at a time, round-robin. Images past the count are not used.
        private static List<TrainingImage> BalanceRegularisation(List<TrainingImage> reg, int trainCount, int regCount, int index, List<string> warnings)
        {
            if (reg.Count == 0)
            {
                return [];
            }

            if (trainCount < regCount)
            {
                warnings.Add($"[[datasets]] #{index + 1}: {regCount} regularisation images (with repeats) for {trainCount} training images: some regularisation images are not used.");
            }

            var repeats = new List<int>();
            var n = 0;
            var first = true;
            while (n < trainCount)
            {
                for (var i = 0; i < reg.Count && n < trainCount; i++)
                {
                    if (first)
                    {
                        repeats.Add(reg[i].Repeats);
                        n += reg[i].Repeats;
                    }
                    else
                    {
                        repeats[i]++;
                        n++;
                    }
                }

                first = false;
            }

            return repeats.Select((r, i) => reg[i] with { Repeats = r }).ToList();
        }

        private static Part Bucketize(int index, DatasetOptions options, List<SubsetState> subsets, List<TrainingImage> images)
        {
            var buckets = images
                .Select((image, i) => (image, i))
                .GroupBy(x => x.image.Assignment.Bucket)
                .OrderBy(g => g.Key.Width).ThenBy(g => g.Key.Height)
                .Select(g => new Bucket(g.Key, g.Select(x => x.i).ToList(), g.Sum(x => x.image.Repeats)))
                .ToList();
            BucketInfo? info = null;
            if (options.EnableBucket && images.Count > 0)
            {
                info = new BucketInfo(
                    buckets.Select((b, i) => new BucketCount(i, b.Resolution, b.Count)).ToList(),
                    images.Average(i => Math.Abs(i.Assignment.AspectRatioError)));
            }

            return new Part(index, options, subsets, images, buckets, info);
        }
    }
}
