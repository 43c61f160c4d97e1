using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace SdTune.Studio;

/// <summary>
/// The studio's pages. A page is <c>Pages/&lt;name&gt;.html</c> (its section) and <c>Pages/&lt;name&gt;.js</c> (which calls
/// <c>registerPage</c>) plus one line in <see cref="All"/>; the server serves each on its path inside
/// <c>Pages/layout.html</c> with the navigation, <c>common.js</c>, the page's script and <c>studio.js</c>.
/// </summary>
internal static class StudioPages
{
    /// <summary>Every page, in navigation order.</summary>
    public static readonly IReadOnlyList<StudioPage> All =
    [
        new("runs", "/", "Runs"),
        new("data", "/data", "Data"),
        new("train", "/train", "Train"),
        new("generate", "/generate", "Generate"),
        new("compare", "/compare", "Compare"),
    ];

    /// <summary>Maps each page's path and the scripts.</summary>
    public static void Map(WebApplication app)
    {
        var assembly = typeof(StudioPages).Assembly;
        var layout = Resource(assembly, "layout.html") ?? throw new InvalidOperationException("the studio's layout page is missing from the assembly.");
        var nav = string.Join("\n", All.Select(p => $"  <a id=\"nav-{p.Name}\" href=\"{p.Path}\">{WebUtility.HtmlEncode(p.Title)}</a>"));
        foreach (var page in All.Where(p => Resource(assembly, p.Name + ".html") is not null))
        {
            var scripts = string.Join("\n", new[] { "common", page.Name, "studio" }.Select(s => $"<script src=\"/{s}.js\"></script>"));
            var html = layout.Replace("{{name}}", page.Name, StringComparison.Ordinal).Replace("{{nav}}", nav, StringComparison.Ordinal)
                .Replace("{{page}}", Resource(assembly, page.Name + ".html"), StringComparison.Ordinal).Replace("{{scripts}}", scripts, StringComparison.Ordinal);
            app.MapGet(page.Path, () => Results.Content(html, "text/html; charset=utf-8")).ExcludeFromDescription();
        }

        app.MapGet("/{script}.js", (string script) => Resource(assembly, script + ".js") is { } js
            ? Results.Content(js, "text/javascript; charset=utf-8")
            : Results.NotFound()).ExcludeFromDescription();
    }

    private static string? Resource(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream($"SdTune.Studio.Pages.{name}");
        if (stream is null)
        {
            return null;
        }

        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>A page of the studio.</summary>
/// <param name="Name">Its name: the files <c>Pages/&lt;name&gt;.html</c> and <c>.js</c>, and the element ids <c>page-&lt;name&gt;</c> and <c>nav-&lt;name&gt;</c>.</param>
/// <param name="Path">Where it is served.</param>
/// <param name="Title">Its title in the navigation.</param>
internal sealed record StudioPage(string Name, string Path, string Title);
