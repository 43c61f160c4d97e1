using SdTune.Checkpoints;
using SdTune.Checkpoints.Control;
using SdTune.Conditioning;
using SdTune.Imaging;
using SdTune.Imaging.Preprocessors;
using SdTune.IO;
using SdTune.Models;
using SdTune.Models.Control;
using SdTune.Models.Unet;
using SkiaSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace SdTune.Pipelines.Control;

/// <summary>
/// The controls of one generation, loaded and ready: each ControlNet in the UNet's dtype and device with its fitted
/// conditioning image, each T2I-Adapter's features (computed once, already scaled). <see cref="Residuals"/> gives
/// what they add to one UNet call. Owns the models and tensors.
/// </summary>
internal sealed class ActiveControls : IDisposable
{
    private readonly List<(ControlRequest Request, ControlNetModel Model, Tensor Image)> controlNets = [];
    private readonly List<(ControlRequest Request, IReadOnlyList<Tensor> Features)> adapters = [];
    private readonly List<string> infotext = [];

    private ActiveControls()
    {
    }

    /// <summary>No controls.</summary>
    public bool IsEmpty => controlNets.Count == 0 && adapters.Count == 0;

    /// <summary>The infotext value of each control, in request order (<see cref="ControlNetUnitInfotext"/>).</summary>
    public IReadOnlyList<string> Infotext => infotext;

    /// <summary>Loads the controls of a request for <paramref name="model"/> at <paramref name="width"/> x <paramref name="height"/>.</summary>
    /// <exception cref="IOException">A model file is missing or invalid, or does not fit the UNet (the message names it).</exception>
    /// <exception cref="ArgumentException">A preprocessor setting is invalid.</exception>
    public static ActiveControls Load(IReadOnlyList<ControlRequest> requests, StableDiffusionModel model, int width, int height)
    {
        var controls = new ActiveControls();
        if (requests.Count == 0)
        {
            return controls;
        }

        try
        {
            var first = model.Unet.parameters().First();
            var (device, dtype) = (first.device, first.dtype);
            var vaeFactor = TiledVae.DownscaleFactor(model.Vae);
            using var noGrad = no_grad();
            foreach (var request in requests)
            {
                using var fitted = Fit(request, width, height);
                if (request.Type == ControlType.ControlNet)
                {
                    var controlNet = LoadControlNet(request, model.Unet.Config, vaeFactor, dtype, device);
                    controls.controlNets.Add((request, controlNet, ConditioningTensor(fitted, dtype, device)));
                }
                else
                {
                    using var adapter = LoadAdapter(request, model.Unet, dtype, device);
                    using var image = ConditioningTensor(fitted, dtype, device);
                    using var scope = NewDisposeScope();
                    IReadOnlyList<Tensor> features = [.. adapter.forward(image).Select(f => (f * request.Scale).DetachFromDisposeScope())];
                    controls.adapters.Add((request, features));
                }

                controls.infotext.Add(UnitInfotext(request));
            }

            return controls;
        }
        catch
        {
            controls.Dispose();
            throw;
        }
    }

    /// <summary>
    /// What the controls active at <paramref name="fraction"/> add to the UNet call on <paramref name="input"/>: the sum
    /// of the ControlNets' residuals (guess-mode ones computed on the conditional rows only, zero on the first
    /// <paramref name="unconditionalRows"/> rows) and the sum of the adapters' features.
    /// </summary>
    public ControlResiduals Residuals(Tensor input, double timestep, UNetConditioning conditioning, int unconditionalRows, double fraction)
    {
        List<Tensor>? down = null;
        Tensor? mid = null;
        List<Tensor>? intrablock = null;
        foreach (var (request, controlNet, image) in controlNets.Where(c => ControlGuidance.IsActive(fraction, c.Request.GuidanceStart, c.Request.GuidanceEnd)))
        {
            using var output = ControlNetOutputFor(request, controlNet, image, input, timestep, conditioning, unconditionalRows);
            down = down is null ? [.. output.DownBlockResiduals.Select(d => d.alias())] : [.. down.Zip(output.DownBlockResiduals, (sum, d) => sum + d)];
            mid = mid is null ? output.MidBlockResidual.alias() : mid + output.MidBlockResidual;
        }

        foreach (var (_, features) in adapters.Where(a => ControlGuidance.IsActive(fraction, a.Request.GuidanceStart, a.Request.GuidanceEnd)))
        {
            if (intrablock is not null && intrablock.Count != features.Count)
            {
                throw new ArgumentException($"The T2I-Adapters give {intrablock.Count} and {features.Count} features; adapters used together must have the same structure.");
            }

            intrablock = intrablock is null ? [.. features.Select(f => f.alias())] : [.. intrablock.Zip(features, (sum, f) => sum + f)];
        }

        return new ControlResiduals(down, mid, intrablock);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var (_, model, image) in controlNets)
        {
            model.Dispose();
            image.Dispose();
        }

        foreach (var feature in adapters.SelectMany(a => a.Features))
        {
            feature.Dispose();
        }

        controlNets.Clear();
        adapters.Clear();
    }

    private static ControlNetOutput ControlNetOutputFor(ControlRequest request, ControlNetModel controlNet, Tensor image, Tensor input, double timestep, UNetConditioning conditioning, int unconditionalRows)
    {
        using var t = tensor(timestep, ScalarType.Float64, input.device);
        if (!request.GuessMode || unconditionalRows == 0)
        {
            return controlNet.forward(input, t, conditioning.Context, image, request.Scale, conditioning.Added, request.GuessMode);
        }

        // Guess mode (diffusers): only the conditional rows go through the ControlNet; the unconditional rows get zeros.
        var rows = input.shape[0] - unconditionalRows;
        var added = conditioning.Added is { } a ? new UNetAddedConditions(a.TextEmbeds.narrow(0, unconditionalRows, rows), a.TimeIds.narrow(0, unconditionalRows, rows)) : null;
        using var conditional = controlNet.forward(input.narrow(0, unconditionalRows, rows), t, conditioning.Context.narrow(0, unconditionalRows, rows), image, request.Scale, added, guessMode: true);
        Tensor Pad(Tensor r) => cat([zeros([unconditionalRows, .. r.shape.Skip(1)], r.dtype, r.device), r], 0);
        return new ControlNetOutput([.. conditional.DownBlockResiduals.Select(Pad)], Pad(conditional.MidBlockResidual));
    }

    /// <summary>The fitted image as (1, 3, H, W) in [0, 1], in the UNet's dtype and device, owned by the caller (outside any dispose scope).</summary>
    private static Tensor ConditioningTensor(SKBitmap fitted, ScalarType dtype, Device device)
    {
        using var pixels = ImageTensors.FromImageUnitRange(fitted);
        using var batch = pixels.unsqueeze(0);
        return batch.to(dtype, device, copy: true).DetachFromDisposeScope();
    }

    private static SKBitmap Fit(ControlRequest request, int width, int height)
    {
        if (request.Preprocessor is not { } name)
        {
            return ControlImageResize.Fit(request.Image, width, height, request.ResizeMode);
        }

        using var preprocessed = PreprocessorRegistry.Run(name, request.Image);
        return ControlImageResize.Fit(preprocessed, width, height, request.ResizeMode);
    }

    private static ControlNetModel LoadControlNet(ControlRequest request, UNet2DConditionConfig unet, int vaeFactor, ScalarType dtype, Device device)
    {
        var controlNet = ControlNetFiles.Load(request.ModelPath, new ModelLoadOptions { DType = dtype });
        try
        {
            controlNet.EnsureFits(unet, request.ModelPath, vaeFactor);

            controlNet.to(device);
            controlNet.eval();
            return controlNet;
        }
        catch
        {
            controlNet.Dispose();
            throw;
        }
    }

    private static T2IAdapter LoadAdapter(ControlRequest request, UNet2DConditionModel unet, ScalarType dtype, Device device)
    {
        var adapter = T2IAdapterFiles.LoadFolder(request.ModelPath, new ModelLoadOptions { DType = dtype });
        try
        {
            adapter.EnsureFits(unet.Config, request.ModelPath);

            adapter.to(device);
            adapter.eval();
            return adapter;
        }
        catch
        {
            adapter.Dispose();
            throw;
        }
    }

    private static string UnitInfotext(ControlRequest request)
    {
        var path = Path.TrimEndingDirectorySeparator(request.ModelPath);
        var name = Clean(File.Exists(path) ? Path.GetFileNameWithoutExtension(path) : Path.GetFileName(path));
        var model = File.Exists(path) ? $"{name} [{ModelHashes.LegacyHash(path)}]" : name;
        return new ControlNetUnitInfotext
        {
            Module = request.Preprocessor is { } p ? PreprocessorRegistry.Find(p).Name : "none",
            Model = model,
            Weight = request.Scale,
            ResizeMode = ControlResizeModes.DisplayName(request.ResizeMode),
            GuidanceStart = request.GuidanceStart,
            GuidanceEnd = request.GuidanceEnd,
            ControlMode = request.GuessMode ? ControlNetUnitInfotext.ControlNetMoreImportant : ControlNetUnitInfotext.Balanced,
        }.ToText();
    }

    // The extension's unit values cannot hold ',' or ':'.
    private static string Clean(string name) => name.Replace(",", "", StringComparison.Ordinal).Replace(":", "", StringComparison.Ordinal);
}
