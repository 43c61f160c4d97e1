using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace SdTune.Studio;

/// <summary>
/// The studio's access token: 32 random bytes, URL-safe base64. Every request must carry it, as
/// <c>Authorization: Bearer TOKEN</c>, as <c>?token=TOKEN</c> (which also sets an HttpOnly, SameSite=Strict cookie so the
/// pages' own requests carry it), or as that cookie; any other request is answered 401.
/// </summary>
public sealed class AccessToken
{
    /// <summary>The cookie that carries the token after a <c>?token=</c> visit.</summary>
    public const string CookieName = "sdtune_studio_token";

    private readonly byte[] expected;

    /// <summary>Wraps a token.</summary>
    public AccessToken(string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(value);
        Value = value;
        expected = Encoding.UTF8.GetBytes(value);
    }

    /// <summary>The token.</summary>
    public string Value { get; }

    /// <summary>A new random token (32 bytes, URL-safe base64 without padding).</summary>
    public static AccessToken Generate() =>
        new(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_'));

    /// <summary>True when <paramref name="candidate"/> is the token (compared in constant time).</summary>
    public bool Matches(string? candidate) =>
        candidate is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(candidate), expected);

    /// <summary>The middleware: lets a request with the token through, answers 401 to any other.</summary>
    public async Task Check(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var request = context.Request;
        var header = request.Headers.Authorization.ToString();
        var bearer = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
        var query = request.Query["token"].ToString();
        if (Matches(bearer) || Matches(request.Cookies[CookieName]))
        {
            await next(context);
            return;
        }

        if (query.Length > 0 && Matches(query))
        {
            context.Response.Cookies.Append(CookieName, Value, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", IsEssential = true });
            await next(context);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        await context.Response.WriteAsJsonAsync(new ApiError("the studio's access token is missing or wrong; open the URL sdtune studio printed, or send Authorization: Bearer TOKEN.", "token"), StudioJson.Options);
    }
}
