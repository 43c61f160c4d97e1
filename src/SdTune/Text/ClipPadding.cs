namespace SdTune.Text;

/// <summary>What fills the positions after the end-of-text token when a prompt is padded to the model's length.</summary>
public enum ClipPadding
{
    /// <summary>
    /// Pad with the end-of-text token (49407): OpenAI CLIP ViT-L/14 as the SD 1.x text encoder, and SDXL's first
    /// tokenizer (transformers <c>pad_token</c> "&lt;|endoftext|&gt;").
    /// </summary>
    EndToken,

    /// <summary>
    /// Pad with id 0 ("!"): the OpenCLIP text encoders of SD 2.x and SDXL's second tokenizer (<c>pad_token</c> "!").
    /// </summary>
    Zero,
}
