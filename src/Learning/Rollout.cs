using System.Globalization;

namespace Advantage.Learning;

/// <summary>
/// One worker's fixed-length slice of experience, time-major, as plain arrays so it can cross actor and
/// process boundaries without tensors or closures. Arrays are owned by the message once sent: neither
/// side mutates them afterwards.
/// </summary>
/// <param name="WorkerId">Which worker collected it; the learner orders a round's columns by it.</param>
/// <param name="Version">The parameter version the policy had while collecting.</param>
/// <param name="Steps">T, steps per environment.</param>
/// <param name="Environments">K, environments stepped together.</param>
/// <param name="ObservationSize">Flat observation length.</param>
/// <param name="ActionWidth">Floats per action (1 for a discrete index).</param>
/// <param name="Observations">[(T+1) x K x obs]; the last row is the observation to bootstrap from.</param>
/// <param name="Actions">[T x K x ActionWidth], as sampled (unclipped).</param>
/// <param name="Rewards">[T x K].</param>
/// <param name="Terminated">[T x K]: the MDP ended at this step.</param>
/// <param name="Truncated">[T x K]: the episode was cut at this step (time limit).</param>
/// <param name="FinalObservationIndices">Flat indices t*K+k of steps that were truncated and not terminated, ascending.</param>
/// <param name="FinalObservations">[count x obs]: the final observation of each of those episodes, to bootstrap from.</param>
/// <param name="EpisodeReturns">Undiscounted returns of episodes finished in this rollout.</param>
/// <param name="EpisodeLengths">Lengths of those episodes.</param>
public sealed record Rollout(
    int WorkerId,
    long Version,
    int Steps,
    int Environments,
    int ObservationSize,
    int ActionWidth,
    float[] Observations,
    float[] Actions,
    float[] Rewards,
    bool[] Terminated,
    bool[] Truncated,
    int[] FinalObservationIndices,
    float[] FinalObservations,
    double[] EpisodeReturns,
    int[] EpisodeLengths)
{
    /// <summary>
    /// [T x K] log-probabilities of the taken actions under the policy that collected them (mu), or empty when not
    /// recorded. An asynchronous learner trains a newer policy than the one that acted, and needs them for V-trace's
    /// importance ratios; a synchronous learner holds the collecting parameters itself and does not.
    /// </summary>
    public float[] BehaviourLogProbs { get; init; } = [];

    /// <summary>Environment steps this rollout holds (T x K).</summary>
    public int StepCount => Steps * Environments;

    /// <summary>
    /// Why this rollout cannot be applied to a network of the given sizes, or null when it can.
    /// Checks every length, every index and that every number is finite: a bad rollout must be rejected
    /// whole, never half-applied.
    /// </summary>
    public string? Problem(int expectedSteps, int expectedObservationSize, int expectedActionWidth)
    {
        if (Steps != expectedSteps) return $"Steps = {Steps}, expected {expectedSteps}.";
        if (Environments < 1) return $"Environments = {Environments}, expected >= 1.";
        if (ObservationSize != expectedObservationSize) return $"ObservationSize = {ObservationSize}, expected {expectedObservationSize}.";
        if (ActionWidth != expectedActionWidth) return $"ActionWidth = {ActionWidth}, expected {expectedActionWidth}.";
        long tk = (long)Steps * Environments;
        if (Observations is null || Observations.LongLength != (Steps + 1L) * Environments * ObservationSize)
            return $"Observations has {Observations?.Length ?? 0} floats, expected (T+1) x K x obs = {(Steps + 1L) * Environments * ObservationSize}.";
        if (Actions is null || Actions.LongLength != tk * ActionWidth) return $"Actions has {Actions?.Length ?? 0} floats, expected {tk * ActionWidth}.";
        if (Rewards is null || Rewards.LongLength != tk) return $"Rewards has {Rewards?.Length ?? 0} floats, expected {tk}.";
        if (Terminated is null || Terminated.LongLength != tk) return $"Terminated has {Terminated?.Length ?? 0} flags, expected {tk}.";
        if (Truncated is null || Truncated.LongLength != tk) return $"Truncated has {Truncated?.Length ?? 0} flags, expected {tk}.";
        if (FinalObservationIndices is null || FinalObservations is null
            || FinalObservations.LongLength != (long)FinalObservationIndices.Length * ObservationSize)
            return $"FinalObservations has {FinalObservations?.Length ?? 0} floats, expected {(FinalObservationIndices?.Length ?? 0)} x {ObservationSize}.";
        int previous = -1;
        foreach (int index in FinalObservationIndices)
        {
            if (index <= previous || index >= tk) return $"FinalObservationIndices has {index}, expected ascending indices in [0, {tk}).";
            if (!Truncated[index] || Terminated[index]) return $"FinalObservationIndices has {index}, which is not a truncated, non-terminated step.";
            previous = index;
        }
        int expectedFinals = 0;
        for (int i = 0; i < tk; i++) if (Truncated[i] && !Terminated[i]) expectedFinals++;
        if (expectedFinals != FinalObservationIndices.Length)
            return $"FinalObservationIndices has {FinalObservationIndices.Length} entries, but {expectedFinals} steps are truncated and not terminated.";
        if (BehaviourLogProbs is null || (BehaviourLogProbs.Length != 0 && BehaviourLogProbs.LongLength != tk))
            return $"BehaviourLogProbs has {BehaviourLogProbs?.Length ?? 0} floats, expected none or T x K = {tk}.";
        if (EpisodeReturns is null || EpisodeLengths is null || EpisodeReturns.Length != EpisodeLengths.Length)
            return "EpisodeReturns and EpisodeLengths must have the same length.";
        // Where a non-finite number sits, so the message names the step and the environment slot that produced it.
        if (!AllFinite(Observations)) return NonFinite(nameof(Observations), Observations, ObservationSize);
        if (!AllFinite(Actions)) return NonFinite(nameof(Actions), Actions, ActionWidth);
        if (!AllFinite(Rewards)) return NonFinite(nameof(Rewards), Rewards, 1);
        if (!AllFinite(FinalObservations))
        {
            int at = FirstNonFinite(FinalObservations) / ObservationSize, index = FinalObservationIndices[at];
            return string.Create(CultureInfo.InvariantCulture,
                $"FinalObservations contain a non-finite number ({FinalObservations[FirstNonFinite(FinalObservations)]}) at step {index / Environments} of environment slot {index % Environments}.");
        }
        if (!AllFinite(BehaviourLogProbs)) return NonFinite(nameof(BehaviourLogProbs), BehaviourLogProbs, 1);
        foreach (double r in EpisodeReturns) if (!double.IsFinite(r)) return "EpisodeReturns contain a non-finite number.";
        return null;
    }

    /// <summary>"Name contain a non-finite number (NaN) at step t of environment slot k (element e)" for a [steps x K x width] array.</summary>
    private string NonFinite(string name, ReadOnlySpan<float> values, int width)
    {
        int i = FirstNonFinite(values), row = i / width, element = i % width;
        return string.Create(CultureInfo.InvariantCulture,
            $"{name} contain a non-finite number ({values[i]}) at step {row / Environments} of environment slot {row % Environments}{(width > 1 ? $" (element {element})" : "")}.");
    }

    private static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        // x - x is 0 for finite x and NaN for NaN or infinity; summing keeps it branch-free and vectorisable.
        float acc = 0f;
        foreach (float v in values) acc += v - v;
        return acc == 0f;
    }
}
