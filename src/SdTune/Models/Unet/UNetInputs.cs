using static TorchSharp.torch;

namespace SdTune.Models.Unet;

/// <summary>
/// The input checks and the timestep embedding shared by <see cref="UNet2DConditionModel"/> and the ControlNet (which
/// copies the UNet's <c>time_proj</c>, <c>time_embedding</c> and SDXL <c>add_embedding</c>).
/// </summary>
internal static class UNetInputs
{
    /// <summary>Checks the inputs every model with a UNet's contracting half takes; <paramref name="model"/> names it in messages ("UNet", "ControlNet").</summary>
    public static void Check(UNet2DConditionConfig config, string model, Tensor sample, Tensor timestep, Tensor context, UNetAddedConditions? added)
    {
        if (sample.dim() != 4 || sample.shape[1] != config.InChannels)
        {
            throw new ArgumentException($"The {model} expects a sample of shape (B, {config.InChannels}, H, W), got [{string.Join(", ", sample.shape)}].", nameof(sample));
        }

        var batch = sample.shape[0];
        if (timestep.dim() > 1 || (timestep.dim() == 1 && timestep.shape[0] != 1 && timestep.shape[0] != batch))
        {
            throw new ArgumentException($"The timestep must be a scalar, one value, or one value per sample ({batch}); got shape [{string.Join(", ", timestep.shape)}].", nameof(timestep));
        }

        if (context.dim() != 3 || context.shape[2] != config.CrossAttentionDim[0])
        {
            throw new ArgumentException($"The {model} expects encoder hidden states of shape (B, tokens, {config.CrossAttentionDim[0]}), got [{string.Join(", ", context.shape)}].", nameof(context));
        }

        if (config.UsesTextTimeConditioning && added is null)
        {
            throw new ArgumentException($"This {model} uses \"text_time\" added conditioning (SDXL): pass the pooled text embeddings and time ids.", nameof(added));
        }

        if (!config.UsesTextTimeConditioning && added is not null)
        {
            throw new ArgumentException($"This {model} has no added conditioning (addition_embed_type is null), but added conditions were passed.", nameof(added));
        }

        if (added is not null)
        {
            var expected = config.ProjectionClassEmbeddingsInputDim!.Value;
            var actual = added.TextEmbeds.shape[^1] + (added.TimeIds.shape[^1] * config.AdditionTimeEmbedDim!.Value);
            if (added.TextEmbeds.dim() != 2 || added.TimeIds.dim() != 2 || actual != expected)
            {
                throw new ArgumentException(
                    $"Added conditions of shapes text_embeds [{string.Join(", ", added.TextEmbeds.shape)}] and time_ids [{string.Join(", ", added.TimeIds.shape)}] give {actual} features; the model's add_embedding expects {expected} (pooled width + time ids x {config.AdditionTimeEmbedDim}).",
                    nameof(added));
            }
        }
    }

    /// <summary>
    /// The embedding every resnet receives: the sinusoidal timestep embedding through <c>time_embedding</c>, plus for
    /// SDXL ("text_time") the pooled text and embedded time ids through <c>add_embedding</c>.
    /// </summary>
    public static Tensor TimeEmbedding(Layers.Timesteps timeProj, Layers.TimestepEmbedding timeEmbedding, Layers.Timesteps? addTimeProj,
        Layers.TimestepEmbedding? addEmbedding, Tensor sample, Tensor timestep, UNetAddedConditions? added)
    {
        using var scope = NewDisposeScope();
        var timesteps = timestep.dim() == 0 ? timestep.unsqueeze(0) : timestep;
        timesteps = timesteps.to(sample.device).expand(sample.shape[0]);
        var emb = timeEmbedding.forward(timeProj.forward(timesteps).to(sample.dtype));
        if (addEmbedding is not null && addTimeProj is not null && added is not null)
        {
            var textEmbeds = added.TextEmbeds;
            var timeEmbeds = addTimeProj.forward(added.TimeIds.flatten()).reshape(textEmbeds.shape[0], -1);
            var addEmbeds = cat([textEmbeds, timeEmbeds.to(textEmbeds.dtype)], -1).to(emb.dtype);
            emb = emb + addEmbedding.forward(addEmbeds);
        }

        return emb.MoveToOuterDisposeScope();
    }
}
