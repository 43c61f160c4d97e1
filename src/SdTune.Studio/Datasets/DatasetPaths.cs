using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SdTune.IO;
using SdTune.Training.Data;
using SdTune.Training;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.Json;

namespace SdTune.Studio.Datasets;

/// <summary>Dataset folders and their images named in requests, confined to the datasets folder (links followed).</summary>
internal static class DatasetPaths
{
    /// <summary>How many symbolic links a path may pass through before it is refused.</summary>
    private const int MaxLinks = 40;

    /// <summary>The dataset folder <paramref name="name"/> under <see cref="StudioHome.Datasets"/>.</summary>
    /// <returns>The folder, or null when there is no such folder.</returns>
    /// <exception cref="StudioRequestException">The name leads outside the datasets folder.</exception>
    internal static string? Dataset(StudioHome home, string name)
    {
        name = Unslash(name);
        if (Path.IsPathRooted(name))
        {
            throw new StudioRequestException("name", $"\"{name}\" is an absolute path; name a folder under datasets/.");
        }

        var folder = home.Confine(home.Datasets, name, "name");
        if (folder == home.Datasets || !Directory.Exists(folder))
        {
            return null;
        }

        Real(home, folder, "name");
        return folder;
    }

    /// <summary>An image of the dataset by its path relative to the dataset folder; null when there is no such file.</summary>
    internal static string? Image(StudioHome home, string folder, string path)
    {
        path = Unslash(path);
        if (Path.IsPathRooted(path))
        {
            throw new StudioRequestException("path", $"\"{path}\" is an absolute path; give it relative to the dataset folder.");
        }

        var file = home.Confine(folder, path, "path");
        if (!ImageFiles.IsImage(file))
        {
            throw new StudioRequestException("path", $"\"{path}\" is not an image ({string.Join(", ", ImageFiles.Extensions)}).");
        }

        Real(home, file, "path");
        return File.Exists(file) ? file : null;
    }

    /// <summary>
    /// Follows every symbolic link on <paramref name="path"/> below the datasets folder and refuses the path, naming
    /// <paramref name="field"/>, when one leads outside it.
    /// </summary>
    internal static void Real(StudioHome home, string path, string field)
    {
        var root = home.Datasets;
        var links = 0;
        var current = root;
        var rest = new Queue<string>(Path.GetRelativePath(root, path).Split(Path.DirectorySeparatorChar));
        while (rest.TryDequeue(out var part))
        {
            current = Path.Combine(current, part);
            if (new FileInfo(current).LinkTarget is null)
            {
                continue;
            }

            var target = new FileInfo(current).ResolveLinkTarget(returnFinalTarget: false)!.FullName;
            if (++links > MaxLinks || !(target + Path.DirectorySeparatorChar).StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                throw new StudioRequestException(field, $"\"{Path.GetRelativePath(root, current)}\" is a link that leads outside the datasets folder.");
            }

            // Walk the target again from the root, so links inside it are checked too.
            rest = new Queue<string>(Path.GetRelativePath(root, target).Split(Path.DirectorySeparatorChar).Concat(rest));
            current = root;
        }
    }

    /// <summary>A route value with its encoded slashes (which the server leaves encoded) read as the separators they stand for.</summary>
    internal static string Unslash(string value) => value.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
}
