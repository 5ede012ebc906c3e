using Advantage.Environments;
using Advantage.Learning;

namespace Advantage.Actors;

/// <summary>
/// What to train and when to stop, around the algorithm's <see cref="A2COptions"/>. Immutable; F#
/// callers change it with the <c>WithX</c> methods.
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>The algorithm's hyperparameters. Default: <see cref="A2COptions"/> defaults.</summary>
    public A2COptions Algorithm { get; init; } = new();

    /// <summary>Environment id, looked up in <see cref="Environments"/>. Default "CartPole-v1".</summary>
    public string EnvironmentId { get; init; } = "CartPole-v1";

    /// <summary>Where environment ids resolve; register your own environments here. Default: the built-in set.</summary>
    public EnvironmentRegistry Environments { get; init; } = EnvironmentRegistry.Builtin;

    /// <summary>Stop after this many environment steps, in [1, 10^12]. Default 1,000,000.</summary>
    public long MaxSteps { get; init; } = 1_000_000;

    /// <summary>Stop when the mean return of the last <see cref="ReturnWindow"/> episodes reaches this; null never. Default null.</summary>
    public double? TargetMeanReturn { get; init; }

    /// <summary>Episodes the mean return is taken over, in [1, 100000]. Default 100.</summary>
    public int ReturnWindow { get; init; } = 100;

    /// <summary>How often progress is reported. Default 0.5 s; must be positive.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Returns a copy with <see cref="Algorithm"/> changed.</summary>
    public TrainingOptions WithAlgorithm(A2COptions value) => this with { Algorithm = value };

    /// <summary>Returns a copy with <see cref="EnvironmentId"/> changed.</summary>
    public TrainingOptions WithEnvironmentId(string value) => this with { EnvironmentId = value };

    /// <summary>Returns a copy with <see cref="Environments"/> changed.</summary>
    public TrainingOptions WithEnvironments(EnvironmentRegistry value) => this with { Environments = value };

    /// <summary>Returns a copy with <see cref="MaxSteps"/> changed.</summary>
    public TrainingOptions WithMaxSteps(long value) => this with { MaxSteps = value };

    /// <summary>Returns a copy that stops when the mean return reaches <paramref name="value"/>.</summary>
    public TrainingOptions WithTargetMeanReturn(double value) => this with { TargetMeanReturn = value };

    /// <summary>Returns a copy with no target: it runs until <see cref="MaxSteps"/> or a stop (F# has no <c>with</c> to set null).</summary>
    public TrainingOptions WithoutTargetMeanReturn() => this with { TargetMeanReturn = null };

    /// <summary>Returns a copy with <see cref="ReturnWindow"/> changed.</summary>
    public TrainingOptions WithReturnWindow(int value) => this with { ReturnWindow = value };

    /// <summary>Returns a copy with <see cref="ProgressInterval"/> changed.</summary>
    public TrainingOptions WithProgressInterval(TimeSpan value) => this with { ProgressInterval = value };

    /// <summary>Every problem with these options and the algorithm's, one per bad field. Empty when valid.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Algorithm is null) problems.Add($"{nameof(Algorithm)} must be set.");
        else problems.AddRange(Algorithm.Problems().Select(p => $"{nameof(Algorithm)}.{p}"));
        if (Environments is null) problems.Add($"{nameof(Environments)} must be set.");
        else if (string.IsNullOrWhiteSpace(EnvironmentId) || !Environments.Contains(EnvironmentId))
            problems.Add($"{nameof(EnvironmentId)} = '{EnvironmentId}' is not registered; known ids: {string.Join(", ", Environments.Ids)}.");
        if (MaxSteps < 1 || MaxSteps > 1_000_000_000_000) problems.Add($"{nameof(MaxSteps)} = {MaxSteps} is outside [1, 1000000000000].");
        if (TargetMeanReturn is double target && !double.IsFinite(target)) problems.Add($"{nameof(TargetMeanReturn)} = {target} must be a finite number.");
        if (ReturnWindow < 1 || ReturnWindow > 100_000) problems.Add($"{nameof(ReturnWindow)} = {ReturnWindow} is outside [1, 100000].");
        if (ProgressInterval <= TimeSpan.Zero) problems.Add($"{nameof(ProgressInterval)} = {ProgressInterval} must be positive.");
        return problems;
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem, if there is any.</summary>
    public TrainingOptions Validate()
    {
        var problems = Problems();
        if (problems.Count > 0) throw new OptionsValidationException(nameof(TrainingOptions), problems);
        return this;
    }
}
