namespace SdTune.Tests.Checkpoints.Fuzzing;

/// <summary>What a generated input must do when opened.</summary>
internal enum FuzzExpectation
{
    /// <summary>Load, or fail with the documented format exception (byte-level damage: either may be right).</summary>
    Either,

    /// <summary>Load: only changes the format allows were made (escapes, padding, ignored fields, ...).</summary>
    Load,

    /// <summary>Fail with the documented format exception: a change the format forbids was made.</summary>
    Reject,
}

/// <summary>One generated input file and what it must do.</summary>
/// <param name="Bytes">The file's content.</param>
/// <param name="Description">The mutations applied, for the failure report.</param>
/// <param name="Expectation">Load, reject or either.</param>
/// <param name="MustName">When rejected, text the message must contain (a refused global's name).</param>
internal sealed record FuzzCase(byte[] Bytes, string Description, FuzzExpectation Expectation, string? MustName = null);
