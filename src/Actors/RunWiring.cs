using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using Akka.Event;

namespace Advantage.Actors;

/// <summary>
/// What one worker of a run is, as the learner decides it: everything that shapes its numbers and nothing that
/// depends on where it runs. It travels to worker nodes inside <see cref="Cluster.RunJoined"/>.
/// </summary>
/// <param name="WorkerId">Id in 0..N-1; the learner orders a round's rollouts by it.</param>
/// <param name="Seed">Seeds the worker's environments (column k gets a seed derived from it and k) and action sampling.</param>
/// <param name="RolloutLength">T.</param>
/// <param name="Environments">K.</param>
/// <param name="CheckpointInterval">The run's checkpoint interval: the worker saves its state with the rollouts whose update writes a checkpoint; 0 never (see <see cref="WorkerActor"/>).</param>
/// <param name="RewardScaling">Worker-side reward scaling; null leaves rewards raw.</param>
internal sealed record WorkerPlan(int WorkerId, int Seed, int RolloutLength, int Environments, int CheckpointInterval, RewardScalerOptions? RewardScaling)
{
    /// <summary>
    /// 0 for synchronous rounds (collect one rollout per <see cref="Parameters"/>); otherwise the worker collects
    /// continuously and may have this many rollouts not yet acknowledged by the learner (<see cref="Parameters.Acknowledged"/>)
    /// before it waits.
    /// </summary>
    public int Ahead { get; init; }
}

/// <summary>
/// The one place that turns <see cref="TrainingOptions"/> into the learner's network and each worker's settings.
/// An in-process run and a cluster run both go through it, which is what makes a seeded run give the same
/// numbers in one process and across processes.
/// </summary>
internal static class RunWiring
{
    /// <summary>
    /// The check before a run (<see cref="TrainingOptions.EnvironmentCheck"/>): refuses an environment with errors, one line
    /// naming the first, before any actor starts; warnings go to <paramref name="log"/> at info level.
    /// </summary>
    /// <exception cref="EnvironmentCheckException">The environment has errors.</exception>
    internal static void CheckEnvironment(TrainingOptions options, ILoggingAdapter? log)
    {
        if (options.EnvironmentCheck is not { } check) return;
        var report = EnvironmentChecker.Check(options.Environments, options.EnvironmentId, check);
        if (report.HasErrors) throw new EnvironmentCheckException(report);
        foreach (var warning in report.Warnings) log?.Info("Environment '{0}': {1}", options.EnvironmentId, warning);
    }

    /// <summary>The network the run trains: the environment's spaces with the algorithm's body and head.</summary>
    public static NetworkSpec Spec(TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        IEnvironment probe;
        try
        {
            probe = options.Environments.Make(options.EnvironmentId);
        }
        catch (Exception e) when (e is not OptionsValidationException)
        {
            // Without one environment there are no sizes for the network: refused before anything starts, naming the id.
            throw new OptionsValidationException(nameof(TrainingOptions),
                [$"{nameof(TrainingOptions.EnvironmentId)} = '{options.EnvironmentId}': its factory threw {e.GetType().Name}: {e.Message}"]);
        }
        var algorithm = options.Algorithm;
        if (algorithm.UseSde && probe.ActionSpace is not Box)
            throw new OptionsValidationException(algorithm.GetType().Name,
                [$"{nameof(AlgorithmOptions.UseSde)} = true needs a Box action space (state-dependent exploration is Gaussian); '{options.EnvironmentId}' acts in {probe.ActionSpace}."]);
        return NetworkSpec.For(probe.ObservationSpace, probe.ActionSpace, algorithm.HiddenSizes, algorithm.InitialLogStd, algorithm.Body, algorithm.SeparateNetworks,
            algorithm.UseSde, algorithm.SdeSampleFrequency);
    }

    /// <summary>
    /// Worker <paramref name="workerId"/> of the run: its seed derives from the run seed and the id alone, and it saves
    /// its state for the checkpoints (so a resumed run continues exactly, episodes and all).
    /// </summary>
    public static WorkerPlan Worker(TrainingOptions options, int workerId)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(workerId);
        var algorithm = options.Algorithm;
        // Asynchronous workers get versions as the learner makes them, not every one, and their batches depend on timing:
        // no resume of theirs is exact, so they save nothing and a resumed asynchronous run starts fresh episodes.
        var asynchrony = algorithm.Asynchrony;
        return new WorkerPlan(workerId, Seeds.Derive(algorithm.Seed, workerId + 1), algorithm.RolloutLength, algorithm.EnvironmentsPerWorker,
            asynchrony is null ? options.CheckpointInterval : 0, algorithm.NormalizeRewards ? new RewardScalerOptions(algorithm.Gamma) : null)
        {
            Ahead = asynchrony?.InFlight ?? 0,
        };
    }


    /// <summary>The settings a <see cref="WorkerActor"/> runs with: the plan plus this process's way to make the environment.</summary>
    public static WorkerSettings Settings(WorkerPlan plan, string environmentId, EnvironmentRegistry registry, NetworkSpec spec)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(registry);
        return new WorkerSettings(plan.WorkerId, plan.Seed, plan.RolloutLength, plan.Environments, environmentId, () => registry.Make(environmentId), spec)
        {
            RewardScaling = plan.RewardScaling,
            CheckpointInterval = plan.CheckpointInterval,
            Ahead = plan.Ahead,
        };
    }
}
