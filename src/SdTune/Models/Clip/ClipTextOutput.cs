using static TorchSharp.torch;

namespace SdTune.Models.Clip;

/// <summary>
/// The outputs of one text-encoder forward pass (transformers' <c>CLIPTextModelOutput</c> with
/// <c>output_hidden_states=True</c>). The tensors are owned by the caller: they live in the caller's
/// dispose scope if there is one; otherwise dispose this record.
/// </summary>
/// <param name="LastHiddenState">(B, S, hidden): the last layer's output after the final LayerNorm.</param>
/// <param name="HiddenStates">
/// num_hidden_layers + 1 tensors of (B, S, hidden): the embeddings' output, then each layer's output,
/// without the final LayerNorm. <c>HiddenStates[^2]</c> is the penultimate layer (SDXL, "clip skip 2").
/// </param>
/// <param name="PooledOutput">(B, hidden): <paramref name="LastHiddenState"/> at the end-of-text token (see <see cref="ClipTextEncoder.PooledTokenIndex"/>).</param>
/// <param name="TextEmbeds">(B, projection_dim): <c>text_projection(PooledOutput)</c>; null for the model without projection.</param>
public sealed record ClipTextOutput(
    Tensor LastHiddenState,
    IReadOnlyList<Tensor> HiddenStates,
    Tensor PooledOutput,
    Tensor? TextEmbeds) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        LastHiddenState.Dispose();
        foreach (var hidden in HiddenStates)
        {
            hidden.Dispose();
        }

        PooledOutput.Dispose();
        TextEmbeds?.Dispose();
    }
}
