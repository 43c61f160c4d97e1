using static TorchSharp.torch;

namespace SdTune.Checkpoints.SingleFile;

/// <summary>
/// Produces the tensors of a <see cref="SingleFileConversionPlan"/> one row at a time from a source that reads tensors
/// by name (typically straight from a safetensors file), so a multi-gigabyte checkpoint is never held twice.
/// </summary>
/// <remarks>
/// Ownership: the executor owns every tensor the read function returns and disposes it when the row is done, so the
/// function must return a fresh handle per call (a safetensors read does; for tensors you keep, return
/// <c>t.alias()</c>). The produced tensor belongs to the caller. Renames and reshapes share the source's storage
/// (no copy); splits, merges and transposes allocate. Dtypes are kept; generated tensors are float32
/// (<c>position_ids</c> int64).
/// </remarks>
public static class KeyConversionExecutor
{
    /// <summary>Produces the target tensor of <paramref name="row"/>, reading its sources by name.</summary>
    /// <exception cref="InvalidDataException">A source does not have the shape the plan was made for.</exception>
    public static Tensor Produce(KeyConversion row, Func<string, Tensor> read)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(read);
        var sources = new List<Tensor>(row.Sources.Count);
        try
        {
            foreach (var name in row.Sources)
            {
                sources.Add(read(name));
            }

            return Compute(row, sources);
        }
        finally
        {
            foreach (var source in sources)
            {
                source.Dispose();
            }
        }
    }

    /// <summary>Produces the target tensor of a row whose sources live in per-model namespaces (a diffusers → original plan).</summary>
    public static Tensor Produce(KeyConversion row, Func<SdComponent, string, Tensor> read)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(read);
        return Produce(row, name => read(row.Component, name));
    }

    /// <summary>
    /// Produces every row in order and hands each result to <paramref name="consume"/>, which owns it. A fused source
    /// shared by consecutive rows (OpenCLIP <c>in_proj</c> → q, k, v) is read once.
    /// </summary>
    public static void Run(IEnumerable<KeyConversion> rows, Func<string, Tensor> read, Action<KeyConversion, Tensor> consume)
    {
        ArgumentNullException.ThrowIfNull(read);
        Run(rows, (_, name) => read(name), consume);
    }

    /// <summary>As <see cref="Run(IEnumerable{KeyConversion}, Func{string, Tensor}, Action{KeyConversion, Tensor})"/>,
    /// for sources in per-model namespaces (a diffusers → original plan).</summary>
    public static void Run(IEnumerable<KeyConversion> rows, Func<SdComponent, string, Tensor> read, Action<KeyConversion, Tensor> consume)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(consume);
        (SdComponent Component, string Name)? cachedKey = null;
        Tensor? cached = null;
        try
        {
            foreach (var row in rows)
            {
                Tensor result;
                if (row.Op == KeyConversionOp.SplitRows)
                {
                    var key = (row.Component, row.Sources[0]);
                    if (cachedKey != key)
                    {
                        cached?.Dispose();
                        cached = null;
                        cached = read(row.Component, row.Sources[0]);
                        cachedKey = key;
                    }

                    result = Compute(row, [cached!]);
                }
                else
                {
                    cached?.Dispose();
                    (cached, cachedKey) = (null, null);
                    result = Produce(row, read);
                }

                consume(row, result);
            }
        }
        finally
        {
            cached?.Dispose();
        }
    }

    /// <summary>Computes the target from already-read sources, which stay owned by the caller.</summary>
    internal static Tensor Compute(KeyConversion row, IReadOnlyList<Tensor> sources)
    {
        for (var i = 0; i < sources.Count; i++)
        {
            if (!sources[i].shape.SequenceEqual(row.SourceShapes[i]))
            {
                throw new InvalidDataException(
                    $"tensor '{row.Sources[i]}' has shape {Format(sources[i].shape)}, but the conversion to '{row.Target}' was planned for {Format(row.SourceShapes[i])}");
            }
        }

        var target = row.TargetShape.ToArray();
        return row.Op switch
        {
            KeyConversionOp.Rename => sources[0].alias(),
            KeyConversionOp.SplitRows => SplitRows(sources[0], row.RowStart, target[0]),
            KeyConversionOp.ConcatRows => cat([.. sources], 0),
            KeyConversionOp.Transpose => Transpose(sources[0]),
            KeyConversionOp.ConvToLinear or KeyConversionOp.LinearToConv => sources[0].reshape(target),
            KeyConversionOp.Generate => WrapperTensors.Create(row.Target, row.TargetShape),
            _ => throw new InvalidOperationException($"unknown conversion op {row.Op} for '{row.Target}'"),
        };
    }

    private static Tensor SplitRows(Tensor fused, long start, long count)
    {
        using var view = fused.narrow(0, start, count);
        return view.clone();
    }

    private static Tensor Transpose(Tensor matrix)
    {
        using var view = matrix.t();
        using var contiguous = view.contiguous();
        return contiguous.alias();
    }

    private static string Format(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
