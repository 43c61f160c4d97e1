using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace SdTune.Studio.Api;

/// <summary>What every endpoint answers the same way: a request body read as JSON, a 400 naming the field, a 404.</summary>
internal static class ApiResults
{
    /// <summary>The request's body as JSON.</summary>
    /// <exception cref="StudioRequestException">The body is not JSON; names <c>body</c>.</exception>
    public static async Task<JsonNode?> ReadJson(HttpRequest request)
    {
        try
        {
            return await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted);
        }
        catch (JsonException e)
        {
            throw new StudioRequestException("body", $"not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>400 with the error and the field it names.</summary>
    public static IResult BadRequest(StudioRequestException e) =>
        Results.Json(new ApiError(e.Message, e.Field), StudioJson.Options, statusCode: StatusCodes.Status400BadRequest);

    /// <summary>404 with <paramref name="message"/>, naming <paramref name="field"/>.</summary>
    public static IResult NotFound(string message, string field) =>
        Results.Json(new ApiError(message, field), StudioJson.Options, statusCode: StatusCodes.Status404NotFound);
}
