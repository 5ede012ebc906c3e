using System.Globalization;
using System.Text.Json;
using Advantage.Environments;
using Advantage.Learning.Networks;
using TorchSharp;
using static TorchSharp.torch;

namespace Advantage.Learning;

/// <summary>
/// Captured PPO rounds: the learner's state right before the first of them (a training checkpoint with the schedule's
/// position in its metadata) and the rounds' rollouts in order, as <c>advantage-bench capture-rounds</c> writes them.
/// Replaying them under other settings from the very same state is how a collapse's causes are told apart, and how the
/// regression test (issue 23) shows that the fix keeps the policy's entropy where the failing configuration loses it.
/// </summary>
/// <remarks>
/// Every round is replayed as if the replaying learner had collected it (PPO recomputes pi_old from its own parameters),
/// so a replay under other settings sees the same data as the failing run, not the data its own policy would have met.
/// </remarks>
internal sealed class RoundReplay
{
    private RoundReplay(Checkpoint state, IReadOnlyList<Rollout[]> rounds)
    {
        if (rounds.Count == 0) throw new InvalidDataException("No captured round.");
        State = state;
        Rounds = rounds;
        Steps = long.Parse(state.Metadata["steps"], CultureInfo.InvariantCulture);
        Budget = long.Parse(state.Metadata["step_budget"], CultureInfo.InvariantCulture);
        Options = state.Options as PpoOptions ?? throw new InvalidDataException("The captured round was not trained by PPO.");
    }

    /// <summary>Parameters, Adam state, observation statistics and options before the first round's update.</summary>
    public Checkpoint State { get; }

    /// <summary>The rounds in the order the run trained on them, each in the order the learner received it.</summary>
    public IReadOnlyList<Rollout[]> Rounds { get; }

    /// <summary>Environment steps including the first round, as the learner actor passed them to the schedules.</summary>
    public long Steps { get; }

    /// <summary>The run's step budget (the schedules' horizon).</summary>
    public long Budget { get; }

    /// <summary>The options the run trained with.</summary>
    public PpoOptions Options { get; }

    /// <summary>Reads the state from a checkpoint and the rounds from JSON (an array of rounds, each an array of rollouts).</summary>
    public static RoundReplay Load(string checkpointPath, string roundsPath) =>
        new(Checkpoint.Load(checkpointPath), JsonSerializer.Deserialize<Rollout[][]>(File.ReadAllText(roundsPath))
            ?? throw new InvalidDataException($"'{roundsPath}' holds no rounds."));

    /// <summary>The state before <paramref name="first"/> and the rounds <paramref name="first"/>..<paramref name="last"/> from a capture-rounds folder.</summary>
    public static RoundReplay FromCapture(string folder, long first, long last) =>
        new(Checkpoint.Load(Path.Combine(folder, $"round-{first:D5}.ckpt")),
            [.. Enumerable.Range(0, checked((int)(last - first + 1))).Select(i =>
                JsonSerializer.Deserialize<Rollout[]>(File.ReadAllText(Path.Combine(folder, $"round-{first + i:D5}.rollouts.json")))!)]);

    /// <summary>Writes the state and the rounds as <see cref="Load"/> reads them.</summary>
    public void Save(string checkpointPath, string roundsPath)
    {
        State.Save(checkpointPath);
        File.WriteAllText(roundsPath, JsonSerializer.Serialize(Rounds));
    }

    /// <summary>
    /// A learner built with <paramref name="options"/> and holding the captured state. When the options ask for separate
    /// networks and the captured network shares its trunk, the trunk's weights and Adam moments are copied into both the
    /// policy's and the value function's layers: the new network computes exactly the captured policy and values, and
    /// only the update differs (the value loss can no longer move the policy's features).
    /// </summary>
    public PpoLearner Learner(PpoOptions options)
    {
        var spec = State.Spec with { SeparateNetworks = options.SeparateNetworks };
        var learner = new PpoLearner(options, spec);
        try
        {
            var adam = learner.Optimizer as KeptScalarsAdam ?? throw new InvalidOperationException("Replays restore Adam's state only.");
            if (spec.SeparateNetworks == State.Spec.SeparateNetworks)
            {
                learner.Parameters.Write(State.Parameters);
                learner.LoadOptimizerState(State.OptimizerState!);
            }
            else
            {
                if (!spec.SeparateNetworks) throw new ArgumentException("A captured separate-network round cannot be replayed with a shared trunk.", nameof(options));
                using var captured = new PpoLearner(Options, State.Spec);
                captured.LoadOptimizerState(State.OptimizerState!);
                var (step, first, second) = ((KeptScalarsAdam)captured.Optimizer).Moments(captured.Network.Flat);
                var from = captured.Network.Layout;
                var to = learner.Network.Layout;
                learner.Parameters.Write(SharedToSeparate(from, to, State.Parameters));
                adam.SetMoments(learner.Network.Flat, step, SharedToSeparate(from, to, first), SharedToSeparate(from, to, second));
            }
            if (State.ObservationStatistics is { } statistics && options.NormalizeObservations) learner.RestoreObservationStatistics(statistics);
            return learner;
        }
        catch
        {
            learner.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The first <paramref name="rounds"/> updates replayed with <paramref name="options"/> (<paramref name="handWritten"/>
    /// false: TorchSharp's autograd update, the code the failing run had): after each, the policy's mean entropy on the
    /// observations of the round after the replayed ones (the states the failing run's policy went on to visit), and
    /// each update's metrics. Entry 0 of the entropies is before any update.
    /// </summary>
    public (double[] Entropies, UpdateMetrics[] Metrics) Replay(PpoOptions options, int rounds, bool handWritten = true)
    {
        if (rounds < 1 || rounds >= Rounds.Count) throw new ArgumentOutOfRangeException(nameof(rounds), rounds, $"Replays 1 to {Rounds.Count - 1} rounds; the last is only looked at.");
        using var learner = Learner(options);
        learner.HandWritten = handWritten;
        var probe = Rounds[rounds];
        var entropies = new double[rounds + 1];
        var metrics = new UpdateMetrics[rounds];
        entropies[0] = MeanEntropy(learner, probe);
        long steps = Steps;
        for (int i = 0; i < rounds; i++)
        {
            learner.SetTrainingProgress(steps, Budget);
            metrics[i] = learner.Update(Rounds[i]);
            entropies[i + 1] = MeanEntropy(learner, probe);
            steps += Rounds[i].Sum(r => (long)r.StepCount);
        }
        return (entropies, metrics);
    }

    /// <summary>The categorical policy's mean entropy over every observation <paramref name="round"/> acted on, normalised as the learner's statistics now say.</summary>
    public static double MeanEntropy(PpoLearner learner, IReadOnlyList<Rollout> round)
    {
        int obs = learner.Spec.ObservationSize;
        var rows = new List<float>();
        foreach (var r in round) rows.AddRange(r.Observations.AsSpan(0, r.StepCount * obs).ToArray());
        var observations = rows.ToArray();
        if (learner.ObservationStatistics is { } statistics) new ObservationNormalizer(statistics).Normalize(observations);
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(observations, [observations.Length / obs, obs]);
        return ActionDistribution.For(learner.Spec).Entropy(learner.Network, learner.Network.Features(x)).mean().item<float>();
    }

    /// <summary>A shared-trunk flat vector (weights or an optimizer moment) laid out for separate networks: body.fcI into policy_body.fcI and value_body.fcI, heads as they are.</summary>
    internal static float[] SharedToSeparate(IReadOnlyList<ParameterSlot> shared, IReadOnlyList<ParameterSlot> separate, float[] source)
    {
        var byName = shared.ToDictionary(s => s.Name);
        var result = new float[separate.Sum(s => s.Length)];
        foreach (var slot in separate)
        {
            var from = byName[slot.Name.Replace("policy_body.", "body.", StringComparison.Ordinal).Replace("value_body.", "body.", StringComparison.Ordinal)];
            Array.Copy(source, from.Offset, result, slot.Offset, slot.Length);
        }
        return result;
    }
}
