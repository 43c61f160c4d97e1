using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SdTune.Studio;
using SdTune.Studio.Runs;
using SdTune.Tests.Cli;
using SdTune.Training;
using SdTune.Training.Methods;

namespace SdTune.Tests.Studio;

/// <summary>The studio's access token, request checks, method list and OpenAPI document.</summary>
[Collection(StudioCollection.Name)]
public sealed class StudioApiTests(StudioFixture studio)
{
    [Theory]
    [InlineData("/api/methods")]
    [InlineData("/api/runs")]
    [InlineData("/")]
    [InlineData("/openapi/v1.json")]
    [InlineData("/hangfire")]
    public async Task Requests_without_the_token_or_with_a_wrong_one_get_401_and_with_it_200(string path)
    {
        using (var none = await studio.Anonymous.GetAsync(path))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        }

        using (var wrong = new HttpRequestMessage(HttpMethod.Get, path))
        {
            wrong.Headers.Authorization = new("Bearer", studio.Studio.Token.Value + "x");
            using var response = await studio.Anonymous.SendAsync(wrong);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using (var wrongQuery = await studio.Anonymous.GetAsync(path + "?token=nope"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, wrongQuery.StatusCode);
        }

        using var ok = await studio.Client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task The_token_in_the_url_sets_an_http_only_strict_cookie_that_lets_later_requests_in()
    {
        using var response = await studio.Anonymous.GetAsync("/?token=" + studio.Studio.Token.Value);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith($"{AccessToken.CookieName}={studio.Studio.Token.Value}", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        request.Headers.Add("Cookie", $"{AccessToken.CookieName}={studio.Studio.Token.Value}");
        using var withCookie = await studio.Anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, withCookie.StatusCode);
    }

    [Fact]
    public void The_url_names_the_loopback_address_and_a_url_safe_32_byte_token()
    {
        Assert.StartsWith("http://127.0.0.1:", studio.Studio.Url, StringComparison.Ordinal);
        Assert.Matches("^[A-Za-z0-9_-]{43}$", studio.Studio.Token.Value);
        Assert.EndsWith("/?token=" + studio.Studio.Token.Value, studio.Studio.Url, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dataset", "../outside")]
    [InlineData("dataset", "tiny/../../runs")]
    [InlineData("dataset", "/etc")]
    [InlineData("base_model", "../datasets/tiny")]
    [InlineData("sample_prompts", "../../prompts.txt")]
    [InlineData("sample_prompts", "/etc/passwd")]
    public async Task A_path_outside_the_studio_folders_is_refused_naming_the_field(string field, string path)
    {
        var keys = new Dictionary<string, object> { ["max_train_steps"] = 2 };
        var request = new Dictionary<string, object> { ["method"] = "lora", ["dataset"] = "tiny", ["keys"] = keys };
        if (field == "sample_prompts")
        {
            keys[field] = path;
        }
        else
        {
            request[field] = path;
        }

        var (status, body) = await studio.PostRun(request);
        Assert.Equal(400, status);
        Assert.Equal(field, body.GetProperty("field").GetString());
        Assert.Contains("outside", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(studio.Home, "outside")));
    }

    [Theory]
    [InlineData("method", "nope", null, null, "method=nope")]
    [InlineData("network_dim", "lora", "network_dim", 0, "network_dim=0")]
    [InlineData("network_dim", "lora", "network_dim", "abc", "network_dim=abc")]
    [InlineData("learning_rate", "lora", "learning_rate", true, "learning_rate=true")]
    [InlineData("optimizer_type", "lora", "optimizer_type", "Adamm", "optimizer_type=Adamm")]
    [InlineData("netwrok_dim", "lora", "netwrok_dim", 4, "netwrok_dim=4")]
    public async Task A_malformed_run_request_gets_400_naming_the_key_with_the_clis_message(string field, string method, string? key, object? value, string cliOverride)
    {
        var keys = new Dictionary<string, object?> { ["max_train_steps"] = 2 };
        if (key is not null)
        {
            keys[key] = value;
        }

        var (status, body) = await studio.PostRun(new { method, dataset = "tiny", keys });
        // The same mistake on the command line, with the settings the studio adds (model, dataset, output folder).
        var cli = InspectCommandTests.Run("train", "lora", "--dry-run", $"pretrained_model={Path.Combine(AppContext.BaseDirectory, "toyworld", "base-model")}",
            $"train_data_dir={Path.Combine(studio.Home, "datasets", "tiny")}", $"output_dir={Path.Combine(studio.Home, "cli")}", "save_state=true", "max_train_steps=2", cliOverride);
        Assert.Equal(400, status);
        Assert.Equal(field, body.GetProperty("field").GetString());
        Assert.Equal(cli.Error.TrimEnd('\n'), "error: " + body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("{\"method\": \"lora\", \"dataset\": \"tiny\", \"colour\": 1}", "colour")]
    [InlineData("{\"method\": 3, \"dataset\": \"tiny\"}", "method")]
    [InlineData("{\"method\": \"lora\"}", "dataset")]
    [InlineData("{\"method\": \"lora\", \"dataset\": \"missing\"}", "dataset")]
    [InlineData("{\"method\": \"lora\", \"dataset\": \"tiny\", \"base_model\": \"missing\"}", "base_model")]
    [InlineData("{\"method\": \"lora\", \"dataset\": \"tiny\", \"keys\": {\"output_dir\": \"x\"}}", "output_dir")]
    [InlineData("{\"method\": \"lora\", \"dataset\": \"tiny\", \"keys\": []}", "keys")]
    [InlineData("[1]", "body")]
    [InlineData("{\"method\": ", "body")]
    public async Task A_malformed_request_body_gets_400_naming_the_field(string json, string field)
    {
        using var content = new StringContent(json, System.Text.Encoding.UTF8, "application/json");
        using var response = await studio.Client.PostAsync("/api/runs", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(field, body.GetProperty("field").GetString());
    }

    [Fact]
    public async Task The_methods_are_listed_with_their_declared_keys()
    {
        var catalog = await studio.Client.GetFromJsonAsync<JsonElement>("/api/methods");
        var methods = catalog.GetProperty("methods").EnumerateArray().ToList();
        Assert.Equal(TrainingMethods.All.Select(m => m.Name), methods.Select(m => m.GetProperty("name").GetString()));
        foreach (var (method, listed) in TrainingMethods.All.Zip(methods))
        {
            var keys = listed.GetProperty("keys").EnumerateArray().ToList();
            Assert.Equal(method.Options.Select(o => o.Name), keys.Select(k => k.GetProperty("name").GetString()));
            foreach (var (option, key) in method.Options.Zip(keys))
            {
                Assert.Equal(option.Help, key.GetProperty("help").GetString());
                Assert.Equal(option.Range is null, key.GetProperty("range").ValueKind == JsonValueKind.Null);
                if (option.Range is { } range)
                {
                    Assert.Equal(range.Min, key.GetProperty("range").GetProperty("min").GetDouble());
                    Assert.Equal(range.Describe(), key.GetProperty("range").GetProperty("text").GetString());
                }
            }
        }

        var lora = methods.Single(m => m.GetProperty("name").GetString() == "lora");
        var dim = lora.GetProperty("keys").EnumerateArray().Single(k => k.GetProperty("name").GetString() == LoraMethod.NetworkDim.Name);
        Assert.Equal(("integer", LoraMethod.NetworkDim.Default), (dim.GetProperty("type").GetString(), dim.GetProperty("default").GetInt32()));
        Assert.Equal(TrainingConfigKeys.Common.Select(k => k.Name), catalog.GetProperty("common_keys").EnumerateArray().Select(k => k.GetProperty("name").GetString()));
    }

    [Fact]
    public async Task The_openapi_document_is_served_and_describes_every_api_endpoint_with_a_summary()
    {
        var document = await studio.Client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths");
        var endpoints = studio.Studio.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints
            .OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Select(e => "/" + e.RoutePattern.RawText!.TrimStart('/').Replace("{*", "{", StringComparison.Ordinal))
            .Where(p => p.StartsWith("/api/", StringComparison.Ordinal))
            .Distinct()
            .ToList();
        Assert.Contains("/api/generations", endpoints);
        Assert.Contains("/api/datasets/{name}/images", endpoints);
        Assert.True(endpoints.Count >= 30, string.Join(", ", endpoints));
        foreach (var path in endpoints)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} is not in the OpenAPI document");
            Assert.All(item.EnumerateObject().Where(o => o.Value.ValueKind == JsonValueKind.Object), operation =>
                Assert.True(operation.Value.TryGetProperty("summary", out var summary) && summary.GetString()!.Length > 10, $"{operation.Name} {path} has no summary"));
        }
    }

    [Fact]
    public async Task An_unknown_run_is_404_and_a_run_id_cannot_name_another_folder()
    {
        using var missing = await studio.Client.GetAsync("/api/runs/20000101-000000-abcdef");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        using var escape = await studio.Client.GetAsync("/api/runs/..%2F..%2Fdatasets");
        Assert.Equal(HttpStatusCode.NotFound, escape.StatusCode);
        Assert.False(RunStore.IsValidId(".."));
    }
}
