namespace Advantage.Environments;

/// <summary>
/// Settings of <see cref="RewardScaler"/>.
/// </summary>
/// <param name="Gamma">
/// Discount of the running return whose spread sets the scale; default 0.99. Use the agent's own
/// discount, so the scaled returns the critic learns have roughly unit variance. In [0, 1].
/// </param>
/// <param name="Epsilon">Added to the return variance before the square root; default 1e-8. Non-negative.</param>
public sealed record RewardScalerOptions(double Gamma = RewardScalerOptions.DefaultGamma, double Epsilon = RewardScalerOptions.DefaultEpsilon)
{
    /// <summary>Gymnasium's default discount, 0.99.</summary>
    public const double DefaultGamma = 0.99;

    /// <summary>Gymnasium's default variance floor, 1e-8.</summary>
    public const double DefaultEpsilon = 1e-8;

    /// <summary>Gymnasium's defaults.</summary>
    public static RewardScalerOptions Default { get; } = new();

    /// <summary>Discount of the running return; in [0, 1].</summary>
    public double Gamma { get; } = Gamma is >= 0.0 and <= 1.0
        ? Gamma
        : throw new ArgumentOutOfRangeException(nameof(Gamma), Gamma, "RewardScalerOptions.Gamma must lie in [0, 1].");

    /// <summary>Variance floor; non-negative and finite.</summary>
    public double Epsilon { get; } = Epsilon >= 0.0 && double.IsFinite(Epsilon)
        ? Epsilon
        : throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "RewardScalerOptions.Epsilon must be finite and non-negative.");

    /// <summary>A copy with another discount; F# cannot use C#'s <c>with</c> on records.</summary>
    public RewardScalerOptions WithGamma(double gamma) => new(gamma, Epsilon);

    /// <summary>A copy with another variance floor.</summary>
    public RewardScalerOptions WithEpsilon(double epsilon) => new(Gamma, epsilon);
}

/// <summary>
/// Reward scaling as Gymnasium's <c>NormalizeReward</c> (Engstrom et al.'s "reward scaling"): each
/// environment keeps a running discounted return, the variance of those returns is tracked, and every
/// reward is divided by <c>sqrt(var + epsilon)</c>, never shifted. It exists because A2C's critic and
/// entropy balance are sensitive to the reward's magnitude, which differs by orders between tasks.
/// </summary>
/// <remarks>
/// <para>
/// Per step, for each environment i: <c>return_i = gamma * return_i + reward_i</c>; the K returns are
/// folded into <see cref="Statistics"/> as one batch (as Gymnasium's vector wrapper and SB3's
/// <c>VecNormalize</c>); the reward is divided by the new standard deviation; and a return whose episode
/// ended on this step (terminated or truncated) is set to 0 so the next episode starts fresh.
/// </para>
/// <para>
/// That ordering is SB3's <c>VecNormalize</c>. Gymnasium (0.27 on) instead computes
/// <c>return = return * gamma * (1 - terminated) + reward</c>, which drops the history on the terminal
/// step itself, carries the terminal reward into the next episode, and never resets on truncation;
/// we follow SB3 because an episode's return should not leak into the next one.
/// </para>
/// <para>
/// It is a component, not an <see cref="IEnvironment"/> wrapper, on purpose: a wrapper would scale the
/// rewards before <see cref="VectorEnvironment"/> sums them, so the episode returns reported for training
/// statistics would be scaled too. Apply it to a copy of the vector's rewards after each step instead.
/// </para>
/// <para>
/// Allocates nothing per step. Not thread-safe: one worker owns one scaler for its K environments.
/// The statistics can be snapshotted, restored or frozen (<see cref="UpdateStatistics"/>) so a learner
/// can own them, as with observation statistics.
/// </para>
/// </remarks>
public sealed class RewardScaler
{
    private readonly double[] returns;

    /// <summary>Creates a scaler for <paramref name="environments"/> environments with Gymnasium's defaults.</summary>
    public RewardScaler(int environments)
        : this(environments, RewardScalerOptions.Default)
    {
    }

    /// <summary>Creates a scaler for <paramref name="environments"/> environments.</summary>
    /// <param name="environments">K, the number of environments stepped together; at least 1.</param>
    /// <param name="options">Discount and variance floor.</param>
    public RewardScaler(int environments, RewardScalerOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(environments);
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        returns = new double[environments];
        Returns = Array.AsReadOnly(returns);
        Statistics = new RunningMeanStd(1);
    }

    /// <summary>The settings in use.</summary>
    public RewardScalerOptions Options { get; }

    /// <summary>K, the number of environments.</summary>
    public int Count => returns.Length;

    /// <summary>The running discounted return of each environment; a live read-only view.</summary>
    public IReadOnlyList<double> Returns { get; }

    /// <summary>
    /// Statistics of the discounted returns (one dimension). Snapshot them to ship or checkpoint, restore
    /// them to continue, or merge statistics from elsewhere.
    /// </summary>
    public RunningMeanStd Statistics { get; }

    /// <summary>
    /// Whether <see cref="Scale(Span{float}, ReadOnlySpan{bool}, ReadOnlySpan{bool})"/> folds returns
    /// into <see cref="Statistics"/>; default true. Turn it off to evaluate, or when the statistics are
    /// owned and restored by someone else (Gymnasium's <c>update_running_mean</c>).
    /// </summary>
    public bool UpdateStatistics { get; set; } = true;

    /// <summary>The divisor rewards are currently scaled by, <c>sqrt(var + epsilon)</c>.</summary>
    public double Divisor => Math.Sqrt(Statistics.Var[0] + Options.Epsilon);

    /// <summary>
    /// Scales one vector step's rewards in place ([K], as <see cref="VectorEnvironment.Rewards"/> copied
    /// out), given that step's flags.
    /// </summary>
    /// <exception cref="ArgumentException">A span does not hold <see cref="Count"/> elements.</exception>
    public void Scale(Span<float> rewards, ReadOnlySpan<bool> terminated, ReadOnlySpan<bool> truncated)
    {
        CheckLength(rewards.Length, nameof(rewards));
        CheckLength(terminated.Length, nameof(terminated));
        CheckLength(truncated.Length, nameof(truncated));
        double gamma = Options.Gamma;
        for (int i = 0; i < returns.Length; i++) returns[i] = returns[i] * gamma + rewards[i];
        if (UpdateStatistics) Statistics.Update(returns, returns.Length);
        double scale = Divisor;
        for (int i = 0; i < returns.Length; i++)
        {
            rewards[i] = (float)(rewards[i] / scale);
            if (terminated[i] || truncated[i]) returns[i] = 0.0;
        }
    }

    /// <summary>
    /// Scales the reward of one environment's step, for a single-environment loop or wrapper; the
    /// statistics are updated with that one return (as Gymnasium's single-environment wrapper).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="environment"/> is not in [0, K).</exception>
    public double Scale(int environment, double reward, bool terminated, bool truncated)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(environment);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(environment, returns.Length);
        returns[environment] = returns[environment] * Options.Gamma + reward;
        if (UpdateStatistics) Statistics.Update(returns.AsSpan(environment, 1), 1);
        double scaled = reward / Divisor;
        if (terminated || truncated) returns[environment] = 0.0;
        return scaled;
    }

    /// <summary>Forgets the running returns (not the statistics), for example after the environments were reset from outside.</summary>
    public void ResetReturns() => Array.Clear(returns);

    /// <summary>
    /// Forgets one environment's running return (not the statistics): its episode was cut from outside (an agent stream of a
    /// simulation that restarted or went silent), so its discounted return must not run on into the next episode.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="environment"/> is not in [0, K).</exception>
    public void ResetReturn(int environment)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(environment);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(environment, returns.Length);
        returns[environment] = 0.0;
    }

    /// <summary>
    /// Replaces the running returns with saved ones (<see cref="Returns"/> read earlier), so environments whose episodes
    /// were saved and restored go on scaling as before; with <see cref="RunningMeanStd.Restore"/> on <see cref="Statistics"/>
    /// the scaler continues exactly.
    /// </summary>
    /// <exception cref="ArgumentException">The span does not hold one value per environment.</exception>
    public void RestoreReturns(ReadOnlySpan<double> values)
    {
        if (values.Length != returns.Length)
            throw new ArgumentException($"Expected {returns.Length} returns, one per environment; got {values.Length}.", nameof(values));
        values.CopyTo(returns);
    }

    private void CheckLength(int length, string name)
    {
        if (length != returns.Length)
            throw new ArgumentException($"Expected {returns.Length} elements, one per environment; got {length}.", name);
    }
}
