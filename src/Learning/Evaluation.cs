using Advantage.Environments;
using Advantage.Learning.Networks;

namespace Advantage.Learning;

/// <summary>The outcome of evaluating a policy for some episodes.</summary>
/// <param name="Returns">Undiscounted return of each episode, in episode order.</param>
/// <param name="Lengths">Length of each episode in steps.</param>
public sealed record EvaluationResult(IReadOnlyList<double> Returns, IReadOnlyList<int> Lengths)
{
    /// <summary>Mean return; NaN when there were no episodes.</summary>
    public double MeanReturn => Returns.Count == 0 ? double.NaN : Returns.Average();

    /// <summary>Population standard deviation of the returns (what Stable-Baselines3's <c>evaluate_policy</c> reports); NaN without episodes.</summary>
    public double StdReturn
    {
        get
        {
            if (Returns.Count == 0) return double.NaN;
            double mean = MeanReturn;
            return Math.Sqrt(Returns.Sum(r => (r - mean) * (r - mean)) / Returns.Count);
        }
    }

    /// <summary>Mean episode length; NaN when there were no episodes.</summary>
    public double MeanLength => Lengths.Count == 0 ? double.NaN : Lengths.Average();
}

/// <summary>
/// Runs a policy with deterministic actions (argmax or the Gaussian mean) on environments of its own, so a
/// score measures what the policy learned rather than the luck of its exploration noise, and so evaluation
/// never disturbs the training environments' episodes. Episode i is reset with seed <c>seed + i</c>: every
/// evaluation of a run sees the same starting states, which makes successive scores comparable.
/// </summary>
public static class Evaluation
{
    /// <summary>Safety cap on one episode's length, for environments without a time limit.</summary>
    public const int DefaultMaxEpisodeSteps = 100_000;

    /// <summary>Evaluates a parameter vector for <paramref name="episodes"/> episodes on a fresh environment.</summary>
    /// <param name="spec">Network sizes the parameters belong to.</param>
    /// <param name="parameters">Flat parameter vector.</param>
    /// <param name="makeEnvironment">Creates the environment evaluated on (called once).</param>
    /// <param name="episodes">Episodes to run, at least 1.</param>
    /// <param name="seed">Episode i resets with seed + i.</param>
    /// <param name="observationStatistics">Normalise observations with these statistics when the run normalised them; null for raw observations.</param>
    /// <param name="maxEpisodeSteps">Cut an episode after this many steps (it still counts).</param>
    public static EvaluationResult Run(NetworkSpec spec, float[] parameters, Func<IEnvironment> makeEnvironment, int episodes, int seed,
        NormalizerState? observationStatistics = null, int maxEpisodeSteps = DefaultMaxEpisodeSteps)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(makeEnvironment);
        ArgumentOutOfRangeException.ThrowIfLessThan(episodes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEpisodeSteps, 1);
        using var policy = TrainedPolicy.FromCheckpoint(
            new Checkpoint(spec, parameters, new Dictionary<string, string>()) { ObservationStatistics = observationStatistics }, seed);
        return Run(policy, makeEnvironment, episodes, seed, maxEpisodeSteps);
    }

    /// <summary>
    /// Plays <paramref name="policy"/> (its normaliser and action clipping applied) with deterministic actions for
    /// <paramref name="episodes"/> episodes on a fresh environment.
    /// </summary>
    /// <param name="policy">A loaded policy (<see cref="TrainedPolicy.Load"/>).</param>
    /// <param name="makeEnvironment">Creates the environment evaluated on (called once).</param>
    /// <param name="episodes">Episodes to run, at least 1.</param>
    /// <param name="seed">Episode i resets with seed + i.</param>
    /// <param name="maxEpisodeSteps">Cut an episode after this many steps (it still counts).</param>
    public static EvaluationResult Run(TrainedPolicy policy, Func<IEnvironment> makeEnvironment, int episodes, int seed,
        int maxEpisodeSteps = DefaultMaxEpisodeSteps)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(makeEnvironment);
        ArgumentOutOfRangeException.ThrowIfLessThan(episodes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEpisodeSteps, 1);
        var environment = makeEnvironment();
        if (environment.ObservationSpace.FlatSize != policy.ObservationSize)
            throw new ArgumentException(
                $"The environment observes {environment.ObservationSpace.FlatSize} floats; the network expects {policy.ObservationSize}.", nameof(makeEnvironment));
        var observation = new float[policy.ObservationSize];
        float[]? low = null, high = null;
        if (environment.ActionSpace is Box box)
        {
            low = box.Low.ToArray();
            high = box.High.ToArray();
        }
        var returns = new double[episodes];
        var lengths = new int[episodes];
        for (int e = 0; e < episodes; e++)
        {
            environment.Reset(unchecked(seed + e), observation);
            double total = 0;
            int length = 0;
            while (length < maxEpisodeSteps)
            {
                var action = policy.Act(observation, deterministic: true);
                // The environment's own bounds too: a checkpoint that does not record the run's bounds is not clipped by the policy.
                if (low is not null)
                    for (int d = 0; d < action.Length; d++) action[d] = Math.Clamp(action[d], low[d], high![d]);
                var step = environment.Step(action, observation);
                total += step.Reward;
                length++;
                if (step.IsFinished) break;
            }
            returns[e] = total;
            lengths[e] = length;
        }
        return new EvaluationResult(returns, lengths);
    }
}
