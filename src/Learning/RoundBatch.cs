using Advantage.Environments;
using Advantage.Learning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Advantage.Learning;

/// <summary>
/// One round's rollouts laid out column-wise as [T, N] host arrays, shared by every learner so they batch, look up
/// final observations and estimate returns the same way. Buffers are reused and sized exactly to the batch (torch
/// copies whole arrays); sizes are stable from round to round, so steady state allocates only tensors.
/// </summary>
internal sealed class RoundBatch
{
    public float[] Observations = [];
    public float[] Actions = [];
    public float[] Rewards = [];
    public bool[] Terminated = [];
    public bool[] Truncated = [];
    public float[] Values = [];
    public float[] Bootstrap = [];
    public float[] FinalValues = [];
    public float[] Advantages = [];
    public float[] Returns = [];
    public float[] BehaviourLogProbs = [];
    private int[] finalIndex = [];

    /// <summary>T.</summary>
    public int Steps { get; private set; }

    /// <summary>N, environments over every rollout.</summary>
    public int Environments { get; private set; }

    /// <summary>Truncated, non-terminated steps whose final observation follows the (T+1) x N rows.</summary>
    public int Finals { get; private set; }

    /// <summary>Whether every rollout carried behaviour log-probabilities, laid out [T, N] in <see cref="BehaviourLogProbs"/>.</summary>
    public bool HasBehaviourLogProbs { get; private set; }

    /// <summary>T x N.</summary>
    public int Transitions => Steps * Environments;

    /// <summary>Observation rows: (T+1) x N plus one per final observation.</summary>
    public int Rows => (Steps + 1) * Environments + Finals;

    /// <summary>Validates every rollout against <paramref name="spec"/> and copies them in, worker w's environments as columns [offset, offset + K_w).</summary>
    public void Fill(IReadOnlyList<Rollout> rollouts, NetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(rollouts);
        if (rollouts.Count == 0) throw new ArgumentException("At least one rollout is needed.", nameof(rollouts));
        int steps = rollouts[0].Steps;
        int envs = 0;
        int finals = 0;
        bool behaviour = true;
        foreach (var r in rollouts)
        {
            string? problem = r.Problem(steps, spec.ObservationSize, spec.ActionWidth);
            if (problem is not null) throw new ArgumentException($"Rollout of worker {r.WorkerId}: {problem}", nameof(rollouts));
            envs += r.Environments;
            finals += r.FinalObservationIndices.Length;
            behaviour &= r.BehaviourLogProbs.Length != 0;
        }
        HasBehaviourLogProbs = behaviour;
        Steps = steps;
        Environments = envs;
        Finals = finals;
        int obsSize = spec.ObservationSize;
        int width = spec.ActionWidth;
        int tn = steps * envs;
        int rows = (steps + 1) * envs + finals;
        Ensure(ref Observations, rows * obsSize);
        Ensure(ref Actions, tn * width);
        Ensure(ref Rewards, tn);
        Ensure(ref Terminated, tn);
        Ensure(ref Truncated, tn);
        EnsureAtLeast(ref Values, (steps + 1) * envs + finals);
        Ensure(ref Bootstrap, envs);
        Ensure(ref FinalValues, tn);
        Ensure(ref Advantages, tn);
        Ensure(ref Returns, tn);
        EnsureAtLeast(ref finalIndex, finals);
        if (behaviour) Ensure(ref BehaviourLogProbs, tn);

        int column = 0, finalRow = 0;
        foreach (var r in rollouts)
        {
            int k = r.Environments;
            for (int t = 0; t <= steps; t++)
                r.Observations.AsSpan(t * k * obsSize, k * obsSize).CopyTo(Observations.AsSpan((t * envs + column) * obsSize));
            for (int t = 0; t < steps; t++)
            {
                r.Actions.AsSpan(t * k * width, k * width).CopyTo(Actions.AsSpan((t * envs + column) * width));
                r.Rewards.AsSpan(t * k, k).CopyTo(Rewards.AsSpan(t * envs + column));
                r.Terminated.AsSpan(t * k, k).CopyTo(Terminated.AsSpan(t * envs + column));
                r.Truncated.AsSpan(t * k, k).CopyTo(Truncated.AsSpan(t * envs + column));
                if (behaviour) r.BehaviourLogProbs.AsSpan(t * k, k).CopyTo(BehaviourLogProbs.AsSpan(t * envs + column));
            }
            for (int f = 0; f < r.FinalObservationIndices.Length; f++)
            {
                int index = r.FinalObservationIndices[f];
                finalIndex[finalRow] = index / k * envs + column + index % k;
                r.FinalObservations.AsSpan(f * obsSize, obsSize).CopyTo(Observations.AsSpan(((steps + 1) * envs + finalRow) * obsSize));
                finalRow++;
            }
            column += k;
        }
    }

    /// <summary>
    /// Takes the values of every row (from <paramref name="allValues"/>, detached, on any device) and fills
    /// <see cref="Advantages"/> and <see cref="Returns"/> through the one <see cref="Learning.Returns"/> implementation.
    /// Returns the explained variance of the values against the returns.
    /// </summary>
    public double Estimate(Tensor allValues, AlgorithmOptions options)
    {
        TakeValues(allValues);
        return EstimateTaken(options);
    }

    /// <summary><see cref="Estimate(Tensor, AlgorithmOptions)"/> from values of every row computed outside torch (PPO's hand-written pass).</summary>
    public double Estimate(ReadOnlySpan<float> allValues, AlgorithmOptions options)
    {
        allValues.CopyTo(Values);
        SpreadValues();
        return EstimateTaken(options);
    }

    private double EstimateTaken(AlgorithmOptions options)
    {
        int steps = Steps, envs = Environments, tn = Transitions;
        var v = Values.AsSpan(0, tn);
        if (options.Estimator == AdvantageEstimator.Gae)
        {
            Learning.Returns.Gae(Rewards.AsSpan(0, tn), v, Bootstrap.AsSpan(0, envs), Terminated.AsSpan(0, tn), Truncated.AsSpan(0, tn),
                FinalValues.AsSpan(0, tn), steps, envs, options.Gamma, options.GaeLambda, Advantages.AsSpan(0, tn), Returns.AsSpan(0, tn));
        }
        else
        {
            Learning.Returns.NStep(Rewards.AsSpan(0, tn), v, Bootstrap.AsSpan(0, envs), Terminated.AsSpan(0, tn), Truncated.AsSpan(0, tn),
                FinalValues.AsSpan(0, tn), steps, envs, options.Gamma, Returns.AsSpan(0, tn));
            for (int i = 0; i < tn; i++) Advantages[i] = Returns[i] - Values[i];
        }
        return ExplainedVariance(Returns.AsSpan(0, tn), v);
    }

    /// <summary>
    /// V-trace targets from the current network's values of every row and the log importance ratios
    /// log(pi/mu) of the taken actions ([T, N]): <see cref="Returns"/> gets vs, <see cref="Advantages"/> the
    /// policy-gradient advantages, through the one <see cref="Learning.Returns.VTrace(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{bool}, ReadOnlySpan{bool}, ReadOnlySpan{float}, int, int, double, double, double?, double?, double?, Span{float}, Span{float})"/>.
    /// Returns the explained variance of the values against vs.
    /// </summary>
    public double EstimateVTrace(Tensor allValues, ReadOnlySpan<float> logRhos, double gamma, double lambda, double? rhoBar, double? cBar, double? pgRhoBar)
    {
        int steps = Steps, envs = Environments, tn = Transitions;
        TakeValues(allValues);
        var v = Values.AsSpan(0, tn);
        Learning.Returns.VTrace(logRhos, Rewards.AsSpan(0, tn), v, Bootstrap.AsSpan(0, envs), Terminated.AsSpan(0, tn), Truncated.AsSpan(0, tn),
            FinalValues.AsSpan(0, tn), steps, envs, gamma, lambda, rhoBar, cBar, pgRhoBar, Returns.AsSpan(0, tn), Advantages.AsSpan(0, tn));
        return ExplainedVariance(Returns.AsSpan(0, tn), v);
    }

    /// <summary>Copies the values of every row to the host and spreads them into values, bootstrap values and final-observation values.</summary>
    private void TakeValues(Tensor allValues)
    {
        using (var host = allValues.detach().cpu())
            TensorMemory.Floats(host).CopyTo(Values);
        SpreadValues();
    }

    /// <summary>Bootstrap and final-observation values out of <see cref="Values"/>, which holds every row's.</summary>
    private void SpreadValues()
    {
        int steps = Steps, envs = Environments;
        Values.AsSpan(steps * envs, envs).CopyTo(Bootstrap);
        for (int f = 0; f < Finals; f++) FinalValues[finalIndex[f]] = Values[(steps + 1) * envs + f];
    }

    /// <summary>1 - Var(R - V) / Var(R); NaN when the returns do not vary.</summary>
    public static double ExplainedVariance(ReadOnlySpan<float> targets, ReadOnlySpan<float> predictions)
    {
        double meanY = 0, meanD = 0;
        for (int i = 0; i < targets.Length; i++) { meanY += targets[i]; meanD += targets[i] - predictions[i]; }
        meanY /= targets.Length;
        meanD /= targets.Length;
        double varY = 0, varD = 0;
        for (int i = 0; i < targets.Length; i++)
        {
            double y = targets[i] - meanY;
            double d = targets[i] - predictions[i] - meanD;
            varY += y * y;
            varD += d * d;
        }
        return varY == 0 ? double.NaN : 1.0 - varD / varY;
    }

    /// <summary>Exact size, for buffers handed whole to torch.</summary>
    private static void Ensure<T>(ref T[] buffer, int length)
    {
        if (buffer.Length != length) buffer = new T[length];
    }

    /// <summary>
    /// At least this size, for host-only buffers whose length follows the number of truncations in a round:
    /// growing only keeps a varying count from reallocating them every round.
    /// </summary>
    private static void EnsureAtLeast<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
    }
}
