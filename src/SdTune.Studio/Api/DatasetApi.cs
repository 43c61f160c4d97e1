using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using SdTune.IO;
using SdTune.Training;
using SdTune.Training.Data;
using SdTune.Studio.Datasets;

namespace SdTune.Studio.Api;

/// <summary>
/// The Data page's endpoints: a dataset folder's images as the trainer reads them (its folder convention, caption files,
/// image sizes and buckets, all through the training data code), the images themselves, and caption edits.
/// </summary>
internal static class DatasetApi
{
    /// <summary>The resolution a listing buckets at when none is given (Stable Diffusion 1.x's; a run without <c>resolution</c> uses its base model's).</summary>
    internal const string DefaultResolution = "512";

    /// <summary>Maps the endpoints on <paramref name="api"/> (the <c>/api</c> group).</summary>
    internal static void Map(RouteGroupBuilder api)
    {
        api.MapGet("/datasets/{name}/images", Images)
            .WithSummary("Every image of a dataset as training reads it (N_name subfolders, caption files, sizes, buckets), unreadable ones flagged, with a summary. Query: resolution, enable_bucket, min_bucket_reso, max_bucket_reso, bucket_reso_steps, bucket_no_upscale, caption_extension (the trainer's defaults).")
            .Produces<DatasetListing>()
            .Produces<ApiError>(StatusCodes.Status400BadRequest)
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        api.MapGet("/datasets/{name}/files/{*path}", ImageFile)
            .WithSummary("One image of a dataset (path relative to the dataset folder).")
            .Produces(StatusCodes.Status200OK, contentType: "image/png")
            .Produces<ApiError>(StatusCodes.Status400BadRequest)
            .Produces<ApiError>(StatusCodes.Status404NotFound);
        api.MapPut("/datasets/{name}/captions/{*path}", PutCaption)
            .WithSummary("Writes an image's caption file (<image stem><caption_extension>, default .caption) atomically; answers the caption as training reads it back.")
            .Accepts<CaptionRequest>("application/json")
            .Produces<CaptionResponse>()
            .Produces<ApiError>(StatusCodes.Status400BadRequest)
            .Produces<ApiError>(StatusCodes.Status404NotFound);
    }

    private static IResult Images(string name, HttpRequest request, StudioHome home)
    {
        try
        {
            if (DatasetPaths.Dataset(home, name) is not { } folder)
            {
                return NoDataset(name);
            }

            var extension = CaptionExtension(request.Query["caption_extension"].ToString() is { Length: > 0 } e ? e : null);
            return Results.Json(DatasetBrowser.List(folder, BucketOptions(request.Query), extension), StudioJson.Options);
        }
        catch (StudioRequestException e)
        {
            return BadRequest(e);
        }
    }

    private static IResult ImageFile(string name, string path, StudioHome home)
    {
        try
        {
            return DatasetPaths.Dataset(home, name) is not { } folder ? NoDataset(name)
                : DatasetPaths.Image(home, folder, path) is { } file ? Results.File(file, ContentType(file))
                : NoImage(path);
        }
        catch (StudioRequestException e)
        {
            return BadRequest(e);
        }
    }

    private static async Task<IResult> PutCaption(string name, string path, HttpRequest request, StudioHome home)
    {
        try
        {
            if (DatasetPaths.Dataset(home, name) is not { } folder)
            {
                return NoDataset(name);
            }

            if (DatasetPaths.Image(home, folder, path) is not { } image)
            {
                return NoImage(path);
            }

            JsonObject body;
            try
            {
                body = await JsonNode.ParseAsync(request.Body, cancellationToken: request.HttpContext.RequestAborted) as JsonObject
                    ?? throw new StudioRequestException("body", "expected a JSON object {\"caption\": \"...\"}.");
            }
            catch (JsonException e)
            {
                throw new StudioRequestException("body", $"not valid JSON: {e.Message}");
            }

            var caption = Text(body, "caption") ?? throw new StudioRequestException("caption", "is required.");
            if (caption.Trim().Length == 0)
            {
                throw new StudioRequestException("caption", "is empty; training refuses an empty caption file (delete the file to use the folder's class tokens).");
            }

            if (DatasetBrowser.CaptionsFromMetadata(folder))
            {
                throw new StudioRequestException("path", "this dataset's captions come from its metadata.jsonl (its \"text\" values); training does not read caption files here.");
            }

            var extension = CaptionExtension(Text(body, "caption_extension"));
            var captionFile = CaptionFiles.Candidates(image, extension)[0];
            DatasetPaths.Real(home, captionFile, "path");
            AtomicFile.WriteAllText(captionFile, caption);
            return Results.Json(new CaptionResponse(DatasetBrowser.Relative(folder, image), DatasetBrowser.Relative(folder, captionFile), CaptionFiles.Read(image, extension, enableWildcard: false)), StudioJson.Options);
        }
        catch (StudioRequestException e)
        {
            return BadRequest(e);
        }
        catch (DatasetException e)
        {
            return BadRequest(new StudioRequestException("caption", e.Message));
        }
    }


    /// <summary>The listing's dataset options: the training keys of the query (resolution and bucketing) read and checked as a run reads them.</summary>
    private static DatasetOptions BucketOptions(IQueryCollection query)
    {
        var keys = new[] { "resolution", "enable_bucket", "min_bucket_reso", "max_bucket_reso", "bucket_reso_steps", "bucket_no_upscale" };
        try
        {
            var config = new TrainingConfig { Resolution = DefaultResolution }.WithOverrides(keys.Where(k => query[k].ToString().Length > 0).Select(k => $"{k}={query[k]}"));
            return config.FolderDatasetOptions(config.ResolutionSize);
        }
        catch (TrainingConfigException e)
        {
            throw new StudioRequestException(e.Key ?? "resolution", e.Message, e);
        }
    }

    private static string CaptionExtension(string? text)
    {
        var extension = text ?? new SubsetOptions().CaptionExtension;
        return extension.Length < 2 || extension[0] != '.' || extension.IndexOfAny(['/', '\\', '\0']) >= 0
            ? throw new StudioRequestException("caption_extension", $"\"{extension}\" is not a file extension (for example \".txt\").")
            : extension;
    }

    private static string? Text(JsonObject body, string key) => body[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw new StudioRequestException(key, "expected a string."),
    };


    private static string ContentType(string file) => Path.GetExtension(file).ToLowerInvariant() switch
    {
        ".png" => "image/png",
        ".jpg" or ".jpeg" => "image/jpeg",
        ".webp" => "image/webp",
        _ => "image/bmp",
    };

    private static IResult BadRequest(StudioRequestException e) => ApiResults.BadRequest(e);

    private static IResult NoDataset(string name) =>
        Results.Json(new ApiError($"no dataset \"{name}\" in the datasets folder.", "name"), StudioJson.Options, statusCode: StatusCodes.Status404NotFound);

    private static IResult NoImage(string path) =>
        Results.Json(new ApiError($"no image \"{path}\" in the dataset.", "path"), StudioJson.Options, statusCode: StatusCodes.Status404NotFound);
}
