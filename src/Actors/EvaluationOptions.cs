using Advantage.Learning;

namespace Advantage.Actors;

/// <summary>
/// Periodic evaluation during training: every <see cref="EveryUpdates"/> updates, the current parameters
/// play <see cref="Episodes"/> episodes with deterministic actions on environments of their own (an evaluator
/// actor, so training rounds do not wait for it), and the best-scoring state is kept as <c>best.ckpt</c> when
/// a checkpoint directory is set. Immutable; F# callers use the <c>WithX</c> methods.
/// </summary>
public sealed record EvaluationOptions
{
    /// <summary>Evaluate after every this many updates, in [1, 10^9]. Default 1000.</summary>
    public int EveryUpdates { get; init; } = 1000;

    /// <summary>Episodes per evaluation, in [1, 100000]. Default 10.</summary>
    public int Episodes { get; init; } = 10;

    /// <summary>Episode i of every evaluation resets with seed + i, so scores are comparable. Default 1,000,003.</summary>
    public int Seed { get; init; } = 1_000_003;

    /// <summary>Cut an evaluation episode after this many steps, in [1, 10^7]. Default 100,000.</summary>
    public int MaxEpisodeSteps { get; init; } = Evaluation.DefaultMaxEpisodeSteps;

    /// <summary>Returns a copy with <see cref="EveryUpdates"/> changed.</summary>
    public EvaluationOptions WithEveryUpdates(int value) => this with { EveryUpdates = value };

    /// <summary>Returns a copy with <see cref="Episodes"/> changed.</summary>
    public EvaluationOptions WithEpisodes(int value) => this with { Episodes = value };

    /// <summary>Returns a copy with <see cref="Seed"/> changed.</summary>
    public EvaluationOptions WithSeed(int value) => this with { Seed = value };

    /// <summary>Returns a copy with <see cref="MaxEpisodeSteps"/> changed.</summary>
    public EvaluationOptions WithMaxEpisodeSteps(int value) => this with { MaxEpisodeSteps = value };

    /// <summary>Every problem, one per bad field, each prefixed by the field's name.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        problems.AddIf(new OptionRange(1, 1_000_000_000).Problem(nameof(EveryUpdates), EveryUpdates));
        problems.AddIf(new OptionRange(1, 100_000).Problem(nameof(Episodes), Episodes));
        problems.AddIf(new OptionRange(1, 10_000_000).Problem(nameof(MaxEpisodeSteps), MaxEpisodeSteps));
        return problems;
    }
}
