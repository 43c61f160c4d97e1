namespace SdTune.Training.Data;

/// <summary>The diffusers DreamBooth dataset settings (<c>train_dreambooth.py</c>), with its defaults.</summary>
public sealed record PriorPreservationOptions
{
    /// <summary><c>--instance_data_dir</c>: the subject's images.</summary>
    public required string InstanceDataDirectory { get; init; }

    /// <summary><c>--instance_prompt</c>, for example "a photo of sks dog".</summary>
    public required string InstancePrompt { get; init; }

    /// <summary><c>--class_data_dir</c>: class (prior) images; required with prior preservation.</summary>
    public string? ClassDataDirectory { get; init; }

    /// <summary><c>--class_prompt</c>, for example "a photo of dog"; required with prior preservation.</summary>
    public string? ClassPrompt { get; init; }

    /// <summary><c>--with_prior_preservation</c> (false).</summary>
    public bool WithPriorPreservation { get; init; }

    /// <summary><c>--prior_loss_weight</c> (1.0): the weight of the class half of each batch.</summary>
    public double PriorLossWeight { get; init; } = 1.0;

    /// <summary><c>--num_class_images</c> (100): the class images wanted; missing ones are generated before training.</summary>
    public int NumClassImages { get; init; } = 100;

    /// <summary><c>--resolution</c> (512): the square training size.</summary>
    public int Resolution { get; init; } = 512;

    /// <summary><c>--center_crop</c> (false): centre crop, else a random crop.</summary>
    public bool CenterCrop { get; init; }

    /// <summary><c>--train_batch_size</c> (4): instance examples per batch; class examples double the batch.</summary>
    public int BatchSize { get; init; } = 4;
}
