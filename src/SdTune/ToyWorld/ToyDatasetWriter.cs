using System.Globalization;
using System.Text;
using SdTune.IO;
using SdTune.Imaging;
using SkiaSharp;

namespace SdTune.ToyWorld;

/// <summary>
/// Writes toy-world pictures as a kohya-style dataset: a folder <c>N_concept</c> of PNG files, each with a
/// <c>.txt</c> caption, and a <c>dataset.toml</c> that <see cref="SdTune.Training.Data.DatasetConfig.Load"/> reads.
/// Existing data is never overwritten: the target folders must not exist yet or be empty.
/// </summary>
public static class ToyDatasetWriter
{
    /// <summary>The dataset configuration's file name.</summary>
    public const string ConfigFileName = "dataset.toml";

    /// <summary>
    /// Writes <paramref name="count"/> pretraining pictures (<see cref="ToyWorldGenerator.Scene"/> 0, 1, ...) with
    /// captions in the generator's seeded mix of phrasings.
    /// </summary>
    /// <param name="directory">The dataset root; created if missing.</param>
    /// <param name="generator">The world.</param>
    /// <param name="count">How many pictures.</param>
    /// <param name="repeats">kohya's <c>num_repeats</c> (the N of the folder name).</param>
    /// <param name="heldOut">Draw from the held-out combinations instead (for evaluation sets).</param>
    /// <returns>The path of the written <c>dataset.toml</c>.</returns>
    public static string WritePretraining(string directory, ToyWorldGenerator generator, int count, int repeats = 1, bool heldOut = false)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var items = Enumerable.Range(0, count).Select(i =>
        {
            var scene = generator.Scene(i, heldOut);
            return (scene, scene.ToCaption(generator.CaptionStyle(i)));
        });
        return Write(directory, generator, heldOut ? "toyworld heldout" : "toyworld", repeats, items.ToList(), 1);
    }

    /// <summary>
    /// Writes <paramref name="count"/> pretraining pictures (<see cref="ToyWorldGenerator.PretrainingScene"/> 0, 1, ...
    /// with <paramref name="patternedShare"/>), each caption file holding every <see cref="ToyCaptionStyle"/> phrasing on its own line, with <c>enable_wildcard = true</c>
    /// so one line is picked per sample, and <paramref name="captionDropoutRate"/> as <c>caption_dropout_rate</c>.
    /// </summary>
    /// <returns>The path of the written <c>dataset.toml</c>.</returns>
    internal static string WritePretrainingPhrasings(string directory, ToyWorldGenerator generator, int count, int batchSize, double captionDropoutRate, double patternedShare)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var styles = Enum.GetValues<ToyCaptionStyle>();
        var items = Enumerable.Range(0, count).Select(i =>
        {
            var scene = generator.PretrainingScene(i, patternedShare);
            return (scene, string.Join('\n', styles.Select(scene.ToCaption)));
        });
        string[] general = ["enable_wildcard = true", string.Create(CultureInfo.InvariantCulture, $"caption_dropout_rate = {captionDropoutRate:R}")];
        return Write(directory, generator, "toyworld", 1, items.ToList(), batchSize, general);
    }

    /// <summary>Writes a benchmark's instance pictures with their captions (the DreamBooth training set).</summary>
    /// <param name="directory">The dataset root; created if missing.</param>
    /// <param name="spec">The benchmark.</param>
    /// <param name="repeats">kohya's <c>num_repeats</c>.</param>
    /// <param name="batchSize">The dataset's <c>batch_size</c>.</param>
    /// <returns>The path of the written <c>dataset.toml</c>.</returns>
    public static string WriteInstances(string directory, BenchmarkSpec spec, int repeats = 1, int batchSize = 1)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var generator = new ToyWorldGenerator(spec.ImageSize, spec.Seed);
        return Write(directory, generator, $"{spec.Identifier} {spec.ClassWord}", repeats, spec.InstanceImages(), batchSize);
    }

    /// <summary>
    /// Writes a ControlNet / T2I-Adapter training set in the folder convention: the pictures and captions in
    /// <c>N_concept</c>, each picture's condition image (<see cref="ToyWorldGenerator.RenderCondition"/>) under the same
    /// file name in its <c>conditioning</c> subfolder, and a <c>dataset.toml</c> whose subset names that folder as
    /// <c>conditioning_data_dir</c>.
    /// </summary>
    /// <param name="directory">The dataset root; created if missing.</param>
    /// <param name="generator">The world.</param>
    /// <param name="concept">The subset folder's concept name.</param>
    /// <param name="items">The scenes with their captions.</param>
    /// <param name="map">The kind of condition image.</param>
    /// <param name="batchSize">The dataset's <c>batch_size</c>.</param>
    /// <returns>The path of the written <c>dataset.toml</c>.</returns>
    public static string WriteWithConditions(string directory, ToyWorldGenerator generator, string concept, IReadOnlyList<(ToyScene Scene, string Caption)> items, ToyConditionMap map,
        int batchSize = 1)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return Write(directory, generator, concept, 1, items, batchSize, conditions: (generator, map));
    }

    /// <summary>
    /// Adds a regularisation subset (<c>is_reg = true</c>, kohya's prior-preservation images) to a dataset written by
    /// <see cref="WriteInstances"/>: the pictures and captions go into a new <c>N_concept</c> folder beside it.
    /// </summary>
    /// <param name="configPath">The dataset TOML returned by <see cref="WriteInstances"/>.</param>
    /// <param name="concept">The folder's concept name (e.g. the class word).</param>
    /// <param name="items">The pictures with their captions.</param>
    /// <param name="repeats">How often each picture repeats per epoch.</param>
    /// <exception cref="IOException">The folder exists and is not empty, or the configuration does not exist.</exception>
    public static void AddRegularisation(string configPath, string concept, IReadOnlyList<(SKBitmap Image, string Caption)> items, int repeats = 1)
    {
        ArgumentNullException.ThrowIfNull(configPath);
        ArgumentException.ThrowIfNullOrEmpty(concept);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        if (!File.Exists(configPath))
        {
            throw new IOException($"{configPath}: no such dataset configuration to add regularisation images to.");
        }

        var folderName = $"{repeats}_{concept}";
        var imageDirectory = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(configPath))!, folderName);
        RequireEmptyFolder(imageDirectory, "regularisation images are");
        WritePictures(imageDirectory, items.Count, i => items[i].Image.Copy(), i => items[i].Caption);
        var toml = new StringBuilder(File.ReadAllText(configPath)).AppendLine();
        AppendSubset(toml, folderName, repeats, concept, isReg: true);
        AtomicFile.WriteAllText(configPath, toml.ToString());
    }

    private static string Write(string directory, ToyWorldGenerator generator, string concept, int repeats, IReadOnlyList<(ToyScene Scene, string Caption)> items, int batchSize,
        IReadOnlyList<string>? generalKeys = null, (ToyWorldGenerator Generator, ToyConditionMap Map)? conditions = null)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        var folderName = $"{repeats}_{concept}";
        var imageDirectory = Path.Combine(directory, folderName);
        var configPath = Path.Combine(directory, ConfigFileName);
        RequireEmptyFolder(imageDirectory, "the toy dataset is");
        if (File.Exists(configPath))
        {
            throw new IOException($"{configPath}: already exists; the toy dataset never overwrites a configuration.");
        }

        WritePictures(imageDirectory, items.Count, i => generator.Render(items[i].Scene), i => items[i].Caption);
        if (conditions is var (world, map))
        {
            WritePictures(Path.Combine(imageDirectory, SdTune.Training.Data.FolderDatasetConvention.ConditioningFolder), items.Count, i => world.RenderCondition(items[i].Scene, map), caption: null);
        }

        var toml = new StringBuilder()
            .AppendLine("# Toy-world dataset written by SdTune.")
            .AppendLine("[general]")
            .AppendLine("caption_extension = \".txt\"")
            .AppendJoin(string.Empty, (generalKeys ?? []).Select(k => k + Environment.NewLine))
            .AppendLine()
            .AppendLine("[[datasets]]")
            .AppendLine(CultureInfo.InvariantCulture, $"resolution = {generator.ImageSize}")
            .AppendLine(CultureInfo.InvariantCulture, $"batch_size = {batchSize}")
            .AppendLine("enable_bucket = false")
            .AppendLine();
        AppendSubset(toml, folderName, repeats, concept, isReg: false);
        if (conditions is not null)
        {
            toml.AppendLine(CultureInfo.InvariantCulture, $"  conditioning_data_dir = \"{folderName}/{SdTune.Training.Data.FolderDatasetConvention.ConditioningFolder}\"");
        }

        AtomicFile.WriteAllText(configPath, toml.ToString());
        return configPath;
    }

    private static void RequireEmptyFolder(string imageDirectory, string what)
    {
        if (Directory.Exists(imageDirectory) && Directory.EnumerateFileSystemEntries(imageDirectory).Any())
        {
            throw new IOException($"{imageDirectory}: the folder is not empty; {what} only written into a new or empty folder.");
        }
    }

    /// <summary>Numbered PNGs with <c>.txt</c> captions (kohya's layout; none when <paramref name="caption"/> is null); each picture is disposed once saved.</summary>
    private static void WritePictures(string imageDirectory, int count, Func<int, SKBitmap> picture, Func<int, string>? caption)
    {
        Directory.CreateDirectory(imageDirectory);
        var digits = Math.Max(5, count.ToString(CultureInfo.InvariantCulture).Length);
        for (var i = 0; i < count; i++)
        {
            var name = i.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0');
            using (var bitmap = picture(i))
            {
                PngWriter.Save(Path.Combine(imageDirectory, name + ".png"), bitmap);
            }

            if (caption is not null)
            {
                AtomicFile.WriteAllText(Path.Combine(imageDirectory, name + ".txt"), caption(i) + "\n");
            }
        }
    }

    private static void AppendSubset(StringBuilder toml, string folderName, int repeats, string concept, bool isReg)
    {
        toml.AppendLine("  [[datasets.subsets]]")
            .AppendLine(CultureInfo.InvariantCulture, $"  image_dir = \"{folderName}\"")
            .AppendLine(CultureInfo.InvariantCulture, $"  num_repeats = {repeats}")
            .AppendLine(CultureInfo.InvariantCulture, $"  class_tokens = \"{concept}\"");
        if (isReg)
        {
            toml.AppendLine("  is_reg = true");
        }
    }
}
