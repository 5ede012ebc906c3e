namespace Advantage.Learning;

/// <summary>How a hyperparameter moves over a run: held, or decayed with the run's progress.</summary>
public enum ScheduleKind
{
    /// <summary>The configured value throughout.</summary>
    Constant,

    /// <summary>
    /// From the configured value at step 0 linearly to zero at the run's step budget, as Stable-Baselines3's and
    /// rl-baselines3-zoo's <c>lin_</c> schedules: late updates take smaller steps, which keeps a policy that has
    /// learned the task from unlearning it.
    /// </summary>
    Linear,
}

/// <summary>The one schedule formula every learner and preset uses, so algorithms cannot decay differently.</summary>
public static class Schedules
{
    /// <summary>
    /// The value of a scheduled hyperparameter after <paramref name="steps"/> of a run of <paramref name="stepBudget"/>
    /// environment steps: <paramref name="initial"/> for <see cref="ScheduleKind.Constant"/>; for
    /// <see cref="ScheduleKind.Linear"/> <c>initial * (1 - steps / budget)</c>, held at 0 from the budget on.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Steps are negative or the budget is below 1.</exception>
    public static double At(ScheduleKind kind, double initial, long steps, long stepBudget)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        ArgumentOutOfRangeException.ThrowIfLessThan(stepBudget, 1);
        return kind switch
        {
            ScheduleKind.Constant => initial,
            ScheduleKind.Linear => initial * Math.Max(0.0, 1.0 - (double)steps / stepBudget),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Not a schedule kind."),
        };
    }
}
