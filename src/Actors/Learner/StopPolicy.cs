namespace Advantage.Actors;

/// <summary>
/// Every reason a run stops on its own, asked in order after each update and evaluation: the target mean
/// return and the step budget (built-in <see cref="IStopCondition"/>s with their own <see cref="StopReason"/>),
/// then the user's conditions. A condition that throws is not swallowed: the learner fails the run with it.
/// </summary>
internal sealed class StopPolicy
{
    private readonly (IStopCondition Condition, StopReason Reason)[] conditions;
    private readonly int window;

    public StopPolicy(TrainingOptions options)
    {
        window = options.ReturnWindow;
        var list = new List<(IStopCondition, StopReason)>();
        if (options.TargetMeanReturn is double target) list.Add((StopCondition.RewardThreshold(target, options.ReturnWindow), StopReason.TargetReached));
        list.Add((StopCondition.StepBudget(options.MaxSteps), StopReason.StepBudgetExhausted));
        list.AddRange(options.StopConditions.Select(c => (c, StopReason.StopConditionMet)));
        conditions = list.ToArray();
    }

    /// <summary>Whether the run has reached its target (what <see cref="TrainingResult.Solved"/> reports).</summary>
    public bool Solved(StopCheck check) => conditions.Length > 0 && conditions[0].Reason == StopReason.TargetReached && conditions[0].Condition.ShouldStop(check);

    /// <summary>The first condition that says stop, with its reason and a sentence for <see cref="TrainingResult.Detail"/>; null to go on.</summary>
    public (StopReason Reason, string Detail)? Check(StopCheck check)
    {
        foreach (var (condition, reason) in conditions)
        {
            if (!condition.ShouldStop(check)) continue;
            return (reason, reason switch
            {
                StopReason.TargetReached => $"Mean return of the last {window} episodes reached the target ({condition.Name}).",
                StopReason.StepBudgetExhausted => $"{check.Progress.Steps} steps reached the budget ({condition.Name}).",
                _ => $"Stop condition met: {condition.Name}.",
            });
        }
        return null;
    }
}
