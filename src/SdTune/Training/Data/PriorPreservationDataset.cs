namespace SdTune.Training.Data;

/// <summary>
/// The diffusers DreamBooth dataset: item i pairs instance image <c>i % n_instance</c> with class image
/// <c>i % n_class</c>; there are <c>max(n_class, n_instance)</c> items (only instances without prior preservation).
/// Each batch holds its items' instance examples followed by their class examples, so one forward pass serves
/// both halves (the loss is <c>mse(instance half) + prior_loss_weight · mse(class half)</c>; the class samples
/// carry that weight in <see cref="TrainingSample.LossWeight"/>). Images are resized so the shorter side is the
/// resolution, then centre- or randomly cropped to a square; they are never flipped.
/// </summary>
public sealed class PriorPreservationDataset
{
    private const long OrderStream = 2;
    private const long SampleStream = 3;

    private readonly PixelSize[] _instanceSizes;
    private readonly PixelSize[] _classSizes;

    private PriorPreservationDataset(PriorPreservationOptions options, long seed, IReadOnlyList<string> instances, PixelSize[] instanceSizes, IReadOnlyList<string> classes, PixelSize[] classSizes, int missing)
    {
        Options = options;
        Seed = seed;
        InstanceImages = instances;
        _instanceSizes = instanceSizes;
        ClassImages = classes;
        _classSizes = classSizes;
        MissingClassImages = missing;
        Length = options.WithPriorPreservation ? Math.Max(classes.Count, instances.Count) : instances.Count;
    }

    /// <summary>The settings.</summary>
    public PriorPreservationOptions Options { get; }

    /// <summary>The seed of the epoch order and random crops.</summary>
    public long Seed { get; }

    /// <summary>The instance images (sorted).</summary>
    public IReadOnlyList<string> InstanceImages { get; }

    /// <summary>The class images used (sorted, at most <c>num_class_images</c>).</summary>
    public IReadOnlyList<string> ClassImages { get; }

    /// <summary>How many class images must still be generated (0 without prior preservation).</summary>
    public int MissingClassImages { get; }

    /// <summary>The number of (instance, class) items per epoch.</summary>
    public int Length { get; }

    /// <summary>Batches per epoch (the last one may be short).</summary>
    public int BatchesPerEpoch => (Length + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>
    /// Lists the images and reads their sizes. With prior preservation, the class folder may hold fewer than
    /// <c>num_class_images</c> images (see <see cref="MissingClassImages"/>) but not none.
    /// </summary>
    /// <param name="options">The settings.</param>
    /// <param name="reader">Reads image sizes.</param>
    /// <param name="seed">The seed of the epoch order and random crops.</param>
    /// <exception cref="DatasetConfigException">A required folder or prompt is missing; the message names the option.</exception>
    public static PriorPreservationDataset Build(PriorPreservationOptions options, IImageReader reader, long seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(reader);
        if (options.Resolution < 1 || options.BatchSize < 1 || options.NumClassImages < 0)
        {
            throw new DatasetConfigException($"DreamBooth options: resolution ({options.Resolution}) and train_batch_size ({options.BatchSize}) must be positive, num_class_images ({options.NumClassImages}) not negative.");
        }

        if (!Directory.Exists(options.InstanceDataDirectory))
        {
            throw new DatasetConfigException($"{options.InstanceDataDirectory}: instance_data_dir is not a folder.");
        }

        var instances = ImageFiles.List(options.InstanceDataDirectory);
        if (instances.Count == 0)
        {
            throw new DatasetConfigException($"{options.InstanceDataDirectory}: instance_data_dir holds no images.");
        }

        IReadOnlyList<string> classes = [];
        var missing = 0;
        if (options.WithPriorPreservation)
        {
            if (options.ClassDataDirectory is null)
            {
                throw new DatasetConfigException("DreamBooth options: with_prior_preservation needs class_data_dir.");
            }

            if (string.IsNullOrEmpty(options.ClassPrompt))
            {
                throw new DatasetConfigException("DreamBooth options: with_prior_preservation needs class_prompt.");
            }

            var all = Directory.Exists(options.ClassDataDirectory) ? ImageFiles.List(options.ClassDataDirectory) : [];
            missing = Math.Max(0, options.NumClassImages - all.Count);
            classes = all.Take(options.NumClassImages).ToList();
            if (classes.Count == 0)
            {
                throw new DatasetConfigException($"{options.ClassDataDirectory}: class_data_dir holds no images; generate {options.NumClassImages} with the class prompt first.");
            }
        }

        return new PriorPreservationDataset(
            options,
            seed,
            instances,
            instances.Select(reader.Probe).ToArray(),
            classes,
            classes.Select(reader.Probe).ToArray(),
            missing);
    }

    /// <summary>One epoch's batches: items in a seeded random order; each batch's instance samples, then its class samples.</summary>
    /// <param name="epoch">The epoch, from 1.</param>
    public IReadOnlyList<TrainingBatch> GetEpoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epoch, 1);
        var order = Enumerable.Range(0, Length).ToList();
        SeededRandom.For(Seed, OrderStream, epoch).Shuffle(order);
        var size = Options.Resolution;
        var bucket = new PixelSize(size, size);
        var batches = new List<TrainingBatch>(BatchesPerEpoch);
        for (var b = 0; b * Options.BatchSize < Length; b++)
        {
            var items = order.GetRange(b * Options.BatchSize, Math.Min(Options.BatchSize, Length - (b * Options.BatchSize)));
            var samples = new List<TrainingSample>(items.Count * 2);
            for (var p = 0; p < items.Count; p++)
            {
                var i = items[p] % InstanceImages.Count;
                samples.Add(MakeSample(InstanceImages[i], _instanceSizes[i], Options.InstancePrompt, false, SeededRandom.For(Seed, SampleStream, epoch, b, p)));
            }

            if (Options.WithPriorPreservation)
            {
                for (var p = 0; p < items.Count; p++)
                {
                    var c = items[p] % ClassImages.Count;
                    samples.Add(MakeSample(ClassImages[c], _classSizes[c], Options.ClassPrompt!, true, SeededRandom.For(Seed, SampleStream, epoch, b, items.Count + p)));
                }
            }

            batches.Add(new TrainingBatch(b, 0, bucket, samples));
        }

        return batches;
    }

    private TrainingSample MakeSample(string path, PixelSize image, string prompt, bool isClass, IRandomSource random)
    {
        var size = Options.Resolution;

        // Shorter side to the resolution, the longer truncated (torchvision Resize with an int size).
        var resized = image.Width <= image.Height
            ? new PixelSize(size, (int)((long)size * image.Height / image.Width))
            : new PixelSize((int)((long)size * image.Width / image.Height), size);
        int spareX = resized.Width - size, spareY = resized.Height - size;
        var crop = Options.CenterCrop
            ? new PixelRect((int)Math.Round(spareX / 2.0, MidpointRounding.ToEven), (int)Math.Round(spareY / 2.0, MidpointRounding.ToEven), size, size)
            : new PixelRect(random.NextInt(spareX + 1), random.NextInt(spareY + 1), size, size);
        var bucket = new PixelSize(size, size);
        return new TrainingSample
        {
            ImagePath = path,
            DatasetIndex = 0,
            SubsetIndex = isClass ? 1 : 0,
            Bucket = bucket,
            ResizedSize = resized,
            Crop = crop,
            Flip = false,
            Caption = prompt,
            LossWeight = isClass ? Options.PriorLossWeight : 1.0,
            IsReg = isClass,
            Conditioning = SdxlConditioning.Compute(image, bucket, false),
        };
    }
}
