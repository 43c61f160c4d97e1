using Microsoft.Playwright;

namespace SdTune.Tests.Studio.Browser;

/// <summary>
/// A headless Chromium driven by Playwright: the system's browser (Debian's <c>chromium</c>, which <c>.ci/run</c>
/// installs with apt), never one Playwright downloads. <see cref="Variable"/> names another executable.
/// </summary>
internal static class TestChromium
{
    /// <summary>The environment variable naming the Chromium executable to use.</summary>
    public const string Variable = "SDTUNE_TEST_CHROMIUM";

    /// <summary>Where Debian and Ubuntu put the browser.</summary>
    private static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

    /// <summary>Starts Playwright and a headless browser.</summary>
    /// <exception cref="InvalidOperationException">No browser is installed; the message says how to install one.</exception>
    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        var executable = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } given ? given : Candidates.FirstOrDefault(File.Exists);
        if (executable is null || !File.Exists(executable))
        {
            throw new InvalidOperationException(
                $"the browser tests need Chromium: install Debian's package (apt-get install chromium) or set {Variable} to a Chromium executable{(executable is null ? "" : $" (\"{executable}\" does not exist)")}.");
        }

        var playwright = await Playwright.CreateAsync();
        try
        {
            // Chromium's sandbox refuses to start as root (CI containers); /dev/shm is small in containers.
            var args = new List<string> { "--disable-dev-shm-usage" };
            if (Environment.UserName == "root")
            {
                args.Add("--no-sandbox");
            }

            var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = executable, Headless = true, Args = args });
            return (playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }
}
