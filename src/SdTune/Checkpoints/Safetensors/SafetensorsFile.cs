using Microsoft.Win32.SafeHandles;
using SdTune.IO;
using SdTune.Runtime;
using static TorchSharp.torch;

namespace SdTune.Checkpoints.Safetensors;

/// <summary>
/// An open safetensors file. The header is read and validated on open; tensors are read one at a time,
/// on demand, straight from the file into tensor memory (no second copy of the file in memory).
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    private const int ChunkBytes = 1 << 26;
    private readonly SafeFileHandle handle;

    private SafetensorsFile(string path, SafeFileHandle handle, SafetensorsHeader header)
    {
        Path = path;
        this.handle = handle;
        Header = header;
    }

    /// <summary>The file's path.</summary>
    public string Path { get; }

    /// <summary>The validated header.</summary>
    public SafetensorsHeader Header { get; }

    /// <summary>The tensors in header order.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors => Header.Tensors;

    /// <summary>The <c>__metadata__</c> map.</summary>
    public IReadOnlyDictionary<string, string> Metadata => Header.Metadata;

    /// <summary>Opens and validates <paramref name="path"/>.</summary>
    /// <exception cref="CheckpointFormatException">The file is not a valid safetensors file.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{path}: file not found.", path);
        }

        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        try
        {
            var header = SafetensorsHeader.Read(path, handle);
            return new SafetensorsFile(path, handle, header);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>Whether the file has a tensor named <paramref name="name"/>.</summary>
    public bool Contains(string name) => Header.ByName.ContainsKey(name);

    /// <summary>Header entry of one tensor.</summary>
    /// <exception cref="KeyNotFoundException">No tensor of that name; the message names the file.</exception>
    public SafetensorsTensorInfo Info(string name) =>
        Header.ByName.TryGetValue(name, out var info) ? info : throw new KeyNotFoundException($"{Path}: no tensor named '{name}'.");

    /// <summary>Reads one tensor into a new CPU tensor, optionally converting its type.</summary>
    /// <param name="name">The tensor's name.</param>
    /// <param name="dtype">Convert to this type after reading; null keeps the stored type.</param>
    public Tensor Read(string name, ScalarType? dtype = null)
    {
        var info = Info(name);
        var tensor = empty(info.ShapeArray, info.DType.ToScalarType());
        try
        {
            ReadBytes(info, tensor);
        }
        catch
        {
            tensor.Dispose();
            throw;
        }

        if (dtype is { } target && target != tensor.dtype)
        {
            var converted = tensor.to(target);
            tensor.Dispose();
            return converted;
        }

        return tensor;
    }

    /// <summary>
    /// Copies one tensor into an existing tensor (for example a model parameter) of the same shape,
    /// converting the type if needed. Reads straight into the destination when it is a contiguous CPU
    /// tensor of the stored type, so loading a model needs no temporary copy.
    /// </summary>
    /// <exception cref="CheckpointFormatException">The shapes differ.</exception>
    public void ReadInto(string name, Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var info = Info(name);
        if (!info.Shape.SequenceEqual(destination.shape))
        {
            throw new CheckpointFormatException(Path, $"tensor '{name}' has shape [{string.Join(", ", info.Shape)}] but the model expects [{string.Join(", ", destination.shape)}].");
        }

        using var noGrad = no_grad();
        if (destination.device_type == TorchSharp.DeviceType.CPU && destination.is_contiguous() && destination.dtype == info.DType.ToScalarType())
        {
            ReadBytes(info, destination);
            return;
        }

        using var temporary = Read(name);
        destination.copy_(temporary);
    }

    /// <summary>Reads every tensor, in header order.</summary>
    public IReadOnlyList<KeyValuePair<string, Tensor>> ReadAll(ScalarType? dtype = null) =>
        [.. Tensors.Select(t => new KeyValuePair<string, Tensor>(t.Name, Read(t.Name, dtype)))];

    /// <inheritdoc />
    public void Dispose() => handle.Dispose();

    private void ReadBytes(SafetensorsTensorInfo info, Tensor destination)
    {
        var fileOffset = Header.DataStart + info.Begin;
        for (long done = 0; done < info.ByteLength;)
        {
            var chunk = (int)Math.Min(ChunkBytes, info.ByteLength - done);
            var span = NativeTensorMemory.Bytes(destination, done, chunk);
            var read = RandomAccess.Read(handle, span, fileOffset + done);
            if (read <= 0)
            {
                throw new CheckpointFormatException(Path, $"tensor '{info.Name}': file ended while reading its data (truncated while open?).");
            }

            done += read;
        }
    }
}
