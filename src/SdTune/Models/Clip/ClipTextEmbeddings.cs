using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace SdTune.Models.Clip;

/// <summary>Token embedding plus learned absolute position embedding (transformers' <c>embeddings</c>).</summary>
internal sealed class ClipTextEmbeddings : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "token_embedding")]
    private readonly Embedding tokenEmbedding;

    [ComponentName(Name = "position_embedding")]
    private readonly Embedding positionEmbedding;

    public ClipTextEmbeddings(ClipTextConfig config, Device? device, ScalarType? dtype)
        : base("embeddings")
    {
        tokenEmbedding = nn.Embedding(config.VocabSize, config.HiddenSize, device: device, dtype: dtype);
        positionEmbedding = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, device: device, dtype: dtype);
        RegisterComponents();
    }

    /// <summary>The token-embedding table (a hook on it can replace rows, e.g. for textual inversion).</summary>
    public Embedding TokenEmbedding => tokenEmbedding;

    /// <summary>Rows appended after the table for tokens added to the tokenizer; null when there are none.</summary>
    public Parameter? AddedRows { get; private set; }

    /// <summary>
    /// Appends <paramref name="rows"/> (N, hidden) after the table and any rows added before, as one trainable
    /// parameter that is not part of the state dict: ids from the table's size on look them up. The rows keep their
    /// own dtype (trainable rows stay float32 beside a half-precision table) unless rows were added before.
    /// </summary>
    public Parameter AddRows(Tensor rows)
    {
        using var noGrad = no_grad();
        var table = tokenEmbedding.weight!;
        var added = rows.to(AddedRows?.dtype ?? rows.dtype, table.device);
        var all = AddedRows is { } before ? cat([before.detach(), added], 0) : added.clone();
        AddedRows?.Dispose();
        AddedRows = new Parameter(all, requires_grad: true);
        return AddedRows;
    }

    /// <summary>Removes the added rows.</summary>
    public void RemoveAddedRows()
    {
        AddedRows?.Dispose();
        AddedRows = null;
    }

    /// <summary>(B, S) ids to (B, S, hidden).</summary>
    public override Tensor forward(Tensor inputIds)
    {
        // Positions are always 0..S-1, so slicing the table equals looking up an arange; this keeps the
        // (non-persistent) position_ids buffer of the reference out of the module.
        var positions = positionEmbedding.weight!.narrow(0, 0, inputIds.shape[1]);
        var tokens = AddedRows is { } added ? LookUpWithAdded(inputIds, added) : tokenEmbedding.call(inputIds);
        return tokens + positions.unsqueeze(0);
    }

    /// <summary>Ids below the table's size look up the table, the others the added rows (gradients reach only the rows used).</summary>
    private Tensor LookUpWithAdded(Tensor inputIds, Parameter added)
    {
        var table = tokenEmbedding.weight!;
        var tableRows = table.shape[0];
        var isAdded = inputIds.ge(tableRows).unsqueeze(-1);
        var fromTable = tokenEmbedding.call(inputIds.clamp_max(tableRows - 1));
        var fromAdded = added.index_select(0, (inputIds - tableRows).clamp(0, added.shape[0] - 1).reshape(-1))
            .reshape(inputIds.shape[0], inputIds.shape[1], -1).to(table.dtype);
        return where(isAdded, fromAdded, fromTable);
    }
}
