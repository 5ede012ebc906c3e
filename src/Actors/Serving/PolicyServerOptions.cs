using Advantage.Learning;

namespace Advantage.Actors;

/// <summary>
/// How a <see cref="PolicyServer"/> batches. Small networks cost about the same per forward pass for one observation
/// as for hundreds, so answering the requests that arrived together in one pass multiplies throughput; these bound the
/// pass's size and how long a request may wait for company. Immutable; F# callers use the <c>WithX</c> methods.
/// </summary>
public sealed record PolicyServerOptions
{
    /// <summary>Most observations in one forward pass, in [1, 65536]; a request holding more is rejected. Default 1024.</summary>
    public int MaxBatch { get; init; } = 1024;

    /// <summary>
    /// How long the first request of a batch may wait for more, in [0, 10 s]. Zero (the default) waits for nothing: the
    /// server answers everything already in its mailbox in one pass, so batches form under load at no latency cost when idle.
    /// </summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.Zero;

    /// <summary>Seeds the server's own stream for sampled requests that carry no <see cref="Act.Seed"/>. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>Returns a copy with <see cref="MaxBatch"/> changed.</summary>
    public PolicyServerOptions WithMaxBatch(int value) => this with { MaxBatch = value };

    /// <summary>Returns a copy with <see cref="MaxWait"/> changed.</summary>
    public PolicyServerOptions WithMaxWait(TimeSpan value) => this with { MaxWait = value };

    /// <summary>Returns a copy with <see cref="Seed"/> changed.</summary>
    public PolicyServerOptions WithSeed(int value) => this with { Seed = value };

    /// <summary>Every problem, one per bad field, each naming the field and its allowed range.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        problems.AddIf(new OptionRange(1, 65_536).Problem(nameof(MaxBatch), MaxBatch));
        if (MaxWait < TimeSpan.Zero || MaxWait > TimeSpan.FromSeconds(10)) problems.Add($"{nameof(MaxWait)} = {MaxWait} is outside [0, 10 s].");
        return problems;
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem, if any.</summary>
    public void Validate() => OptionsValidationException.ThrowIfAny(nameof(PolicyServerOptions), Problems());
}
