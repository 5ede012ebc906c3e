namespace Advantage.Actors;

/// <summary>What a stop condition sees after every update and every evaluation.</summary>
/// <param name="Progress">The run's progress now.</param>
/// <param name="LastEvaluation">The latest evaluation; null before the first (or when evaluation is off).</param>
/// <param name="Evaluations">Evaluations finished so far.</param>
/// <param name="EvaluationsSinceImprovement">Evaluations since the best one (0 right after a new best).</param>
/// <param name="BestEvaluationReturn">Best evaluation mean return so far; NaN before the first.</param>
public sealed record StopCheck(
    TrainingProgress Progress,
    EvaluationFinished? LastEvaluation,
    int Evaluations,
    int EvaluationsSinceImprovement,
    double BestEvaluationReturn);

/// <summary>
/// Decides whether a run should stop, as Stable-Baselines3's stop callbacks do. Called on the learner's
/// thread after every update and every evaluation, so keep it quick and free of blocking. Implement it in
/// C#, as an F# object expression, or wrap a function with <see cref="StopCondition.When"/>.
/// </summary>
public interface IStopCondition
{
    /// <summary>Names the condition in <see cref="TrainingFinished.Detail"/> and logs.</summary>
    string Name { get; }

    /// <summary>True to stop the run now (it ends with <see cref="StopReason.StopConditionMet"/>).</summary>
    bool ShouldStop(StopCheck check);
}

/// <summary>Ready-made stop conditions and a wrapper for functions.</summary>
public static class StopCondition
{
    private sealed record FromFunc(string Name, Func<StopCheck, bool> Predicate) : IStopCondition
    {
        public bool ShouldStop(StopCheck check) => Predicate(check);
    }

    /// <summary>A condition from a function (a C# lambda or an F# <c>fun</c> converted to <c>Func</c>).</summary>
    public static IStopCondition When(string name, Func<StopCheck, bool> predicate)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(predicate);
        return new FromFunc(name, predicate);
    }

    /// <summary>
    /// Stops when the latest evaluation's mean return reaches <paramref name="threshold"/> (SB3's
    /// <c>StopTrainingOnRewardThreshold</c>); needs evaluation to be on.
    /// </summary>
    public static IStopCondition EvaluationRewardThreshold(double threshold) =>
        new FromFunc($"evaluation mean return >= {threshold}", c => c.LastEvaluation is { } e && e.Result.MeanReturn >= threshold);

    /// <summary>
    /// Stops when the training mean return (over <see cref="TrainingOptions.ReturnWindow"/> episodes) reaches
    /// <paramref name="threshold"/>, once at least <paramref name="minEpisodes"/> episodes have finished, so a
    /// lucky first episode does not end the run.
    /// </summary>
    public static IStopCondition RewardThreshold(double threshold, int minEpisodes = 100) =>
        new FromFunc($"training mean return >= {threshold}",
            c => c.Progress.Episodes >= minEpisodes && c.Progress.MeanReturn >= threshold);

    /// <summary>Stops once <paramref name="steps"/> environment steps have been applied.</summary>
    public static IStopCondition StepBudget(long steps) =>
        new FromFunc($"{steps} steps", c => c.Progress.Steps >= steps);

    /// <summary>
    /// Stops when <paramref name="evaluations"/> evaluations in a row have not beaten the best one, after at
    /// least <paramref name="minEvaluations"/> evaluations (SB3's <c>StopTrainingOnNoModelImprovement</c>).
    /// </summary>
    public static IStopCondition NoImprovement(int evaluations, int minEvaluations = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(evaluations, 1);
        return new FromFunc($"no evaluation improvement in {evaluations} evaluations",
            c => c.Evaluations >= minEvaluations && c.EvaluationsSinceImprovement >= evaluations);
    }
}
