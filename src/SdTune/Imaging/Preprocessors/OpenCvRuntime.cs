using System.Text.RegularExpressions;
using OpenCvSharp;

namespace SdTune.Imaging.Preprocessors;

/// <summary>
/// Loads OpenCV (OpenCvSharp's <c>libOpenCvSharpExtern.so</c>) once and turns a load failure into a message that
/// names the missing system library and the Debian package that provides it. The official Linux build links GTK 3,
/// FreeType, HarfBuzz and X11 (see <see cref="DebianPackages"/>); a machine without them fails at the first OpenCV call.
/// </summary>
public static partial class OpenCvRuntime
{
    /// <summary>The shared libraries <c>libOpenCvSharpExtern.so</c> needs beyond glibc and libstdc++, and their Debian 12 packages.</summary>
    public static readonly IReadOnlyDictionary<string, string> DebianPackages = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["libgtk-3.so.0"] = "libgtk-3-0",
        ["libgdk-3.so.0"] = "libgtk-3-0",
        ["libfreetype.so.6"] = "libfreetype6",
        ["libharfbuzz.so.0"] = "libharfbuzz0b",
        ["libpangocairo-1.0.so.0"] = "libpangocairo-1.0-0",
        ["libpango-1.0.so.0"] = "libpango-1.0-0",
        ["libatk-1.0.so.0"] = "libatk1.0-0",
        ["libcairo-gobject.so.2"] = "libcairo-gobject2",
        ["libcairo.so.2"] = "libcairo2",
        ["libgdk_pixbuf-2.0.so.0"] = "libgdk-pixbuf-2.0-0",
        ["libgio-2.0.so.0"] = "libglib2.0-0",
        ["libgobject-2.0.so.0"] = "libglib2.0-0",
        ["libglib-2.0.so.0"] = "libglib2.0-0",
        ["libdrm.so.2"] = "libdrm2",
        ["libatomic.so.1"] = "libatomic1",
        ["libX11.so.6"] = "libx11-6",
    };

    private static readonly Lazy<Exception?> LoadFailure = new(Probe, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Throws unless OpenCV's native library loads.</summary>
    /// <exception cref="OpenCvUnavailableException">It does not; the message says what to install.</exception>
    public static void EnsureLoaded()
    {
        if (LoadFailure.Value is { } failure)
        {
            throw new OpenCvUnavailableException(Describe(failure), failure);
        }
    }

    /// <summary>The message for a load failure: the missing library and <c>apt-get install</c> line when the loader named one.</summary>
    public static string Describe(Exception failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        var text = string.Join(" ", Chain(failure).Select(e => e.Message));
        var missing = MissingLibrary().Matches(text).Select(m => m.Groups[1].Value).Where(l => l != "libOpenCvSharpExtern.so").Distinct().ToList();
        if (missing.Count > 0)
        {
            var packages = missing.Select(l => DebianPackages.TryGetValue(l, out var p) ? p : null).ToList();
            var install = packages.All(p => p is not null)
                ? $"install it with: apt-get install {string.Join(' ', packages.Distinct())}"
                : $"install the package that provides it; on Debian 12 OpenCV needs: apt-get install {string.Join(' ', DebianPackages.Values.Distinct())}";
            return $"OpenCV (libOpenCvSharpExtern.so, used by the preprocessors) cannot be loaded: the system library {string.Join(", ", missing)} is missing; {install}.";
        }

        return $"OpenCV (libOpenCvSharpExtern.so, used by the preprocessors) cannot be loaded: {failure.Message} On Debian 12 its dependencies come from: apt-get install {string.Join(' ', DebianPackages.Values.Distinct())}.";
    }

    private static Exception? Probe()
    {
        try
        {
            _ = Cv2.GetVersionString();
            return null;
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or BadImageFormatException or EntryPointNotFoundException)
        {
            return e;
        }
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }

    [GeneratedRegex(@"(lib[\w\-\.+]+?\.so(?:\.\d+)*): cannot open shared object file", RegexOptions.CultureInvariant)]
    private static partial Regex MissingLibrary();
}
