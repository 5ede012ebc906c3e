using Advantage.Environments;
using Advantage.Learning;
using Advantage.Learning.Networks;
using Akka.Actor;

namespace Advantage.Actors.Simulation;

/// <summary>How the user's simulations feed a run (see <see cref="SimulationTraining.Start"/>).</summary>
public sealed record SimulationOptions
{
    /// <summary>Simulations (gateways), in [1, 1024]; each takes the place of a worker. Default 1.</summary>
    public int Simulations { get; init; } = 1;

    /// <summary>Agent streams per simulation, in [1, 4096]: the columns of its rollouts, acted for in one forward pass. Default 16.</summary>
    public int StreamsPerSimulation { get; init; } = 16;

    /// <summary>
    /// A stream the gateway waits on (for a decision request or an outcome) that stays silent this long is dropped from the
    /// rollout being filled: its partial column is discarded and counted, and the rollout completes with the other streams.
    /// <see cref="TimeSpan.Zero"/> waits forever. Default 30 s: a simulation that stalls must not hold a run forever.
    /// </summary>
    public TimeSpan StreamTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A stream whose column of the rollout is full (T steps) goes on getting decisions, from the parameters at hand, for
    /// up to T steps of the next rollout, instead of waiting until the rollout is complete and (in synchronous rounds) the
    /// learner's next parameters arrive. Default true: a simulation whose clock waits for all its entities each tick
    /// (lockstep) would otherwise deadlock, the full stream waiting for the round and the round for the other entities,
    /// which wait for the clock. The price: in synchronous rounds those early steps were chosen by the previous version
    /// (slightly off-policy for A2C and PPO). False gives exact rounds, for streams that advance independently.
    /// </summary>
    public bool RunAhead { get; init; } = true;

    /// <summary>
    /// What a stream silent past <see cref="StreamTimeout"/> leaves in the rollout: its partial column dropped (the default) or
    /// kept and bootstrapped from the value of its last observation (see <see cref="SilentStreamHandling"/>); counted either way
    /// in <see cref="SimulationStatistics"/>.
    /// </summary>
    public SilentStreamHandling SilentStreams { get; init; } = SilentStreamHandling.Drop;

    /// <summary>
    /// How long a synchronous round (A2C, PPO) may be held up by streams or simulations that do not produce, in two places.
    /// In a gateway: the longest a stream may wait for its decision because the rollout waits for other streams of its
    /// simulation (it ran <see cref="RunAhead"/> as far as it may); past it the streams the rollout waits for are cut as
    /// silent streams are (<see cref="SilentStreams"/>) and the rollout goes with the columns that produced, so entities
    /// that decide at very uneven rates cannot stall a round; counted in <see cref="SimulationStatistics.StalledRollouts"/>.
    /// In the learner: the longest a round waits, after its first rollout came, for the other simulations' rollouts; past
    /// it the round closes with the rollouts it has (as RLlib's <c>sample_timeout_s</c> trains on the samples that came in
    /// time), counted in <see cref="TrainingResult.ShortRounds"/> and announced by <see cref="RoundClosedShort"/>. A gateway
    /// cannot tell a slow simulation from a stuck one (simulations that share a clock, each waiting on the other's
    /// entities, or one that stopped), so only the learner, which sees every simulation, can end the wait; the simulations
    /// it went without get the new parameters and go on, their rollout joining the round it is in. Short rounds happen only
    /// in simulation runs: built-in workers' rounds still wait for every live worker.
    /// <see cref="TimeSpan.Zero"/> waits forever (a lockstep run that shares a clock between simulations may then hang). Default 5 s.
    /// </summary>
    public TimeSpan RoundTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The longest the learner waits for the first rollout of a synchronous round from any simulation. Past it no progress is
    /// being made at all (every simulation silent, or stuck before its first rollout) and the run ends as
    /// <see cref="StopReason.Failed"/>, its detail naming the simulations the round waited for, instead of waiting for
    /// ever. Longer than the default <see cref="StreamTimeout"/>, so silent streams are cut and said first, and than a
    /// slow simulation takes to start. <see cref="TimeSpan.Zero"/> waits forever. Default 2 minutes.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The observation space of every stream, when <see cref="TrainingOptions.EnvironmentId"/> names no registered
    /// environment (a simulation usually has none); set it with <see cref="ActionSpace"/>. Null: taken from the registered environment.
    /// </summary>
    public Space? ObservationSpace { get; init; }

    /// <summary>The action space of every stream; see <see cref="ObservationSpace"/>.</summary>
    public Space? ActionSpace { get; init; }

    /// <summary>Returns a copy with <see cref="Simulations"/> changed.</summary>
    public SimulationOptions WithSimulations(int value) => this with { Simulations = value };

    /// <summary>Returns a copy with <see cref="StreamsPerSimulation"/> changed.</summary>
    public SimulationOptions WithStreamsPerSimulation(int value) => this with { StreamsPerSimulation = value };

    /// <summary>Returns a copy with <see cref="StreamTimeout"/> changed.</summary>
    public SimulationOptions WithStreamTimeout(TimeSpan value) => this with { StreamTimeout = value };

    /// <summary>Returns a copy with <see cref="RunAhead"/> changed.</summary>
    public SimulationOptions WithRunAhead(bool value) => this with { RunAhead = value };

    /// <summary>Returns a copy with <see cref="SilentStreams"/> changed.</summary>
    public SimulationOptions WithSilentStreams(SilentStreamHandling value) => this with { SilentStreams = value };

    /// <summary>Returns a copy with <see cref="RoundTimeout"/> changed.</summary>
    public SimulationOptions WithRoundTimeout(TimeSpan value) => this with { RoundTimeout = value };

    /// <summary>Returns a copy with <see cref="IdleTimeout"/> changed.</summary>
    public SimulationOptions WithIdleTimeout(TimeSpan value) => this with { IdleTimeout = value };

    /// <summary>Returns a copy with <see cref="ObservationSpace"/> and <see cref="ActionSpace"/> changed (they are set together).</summary>
    public SimulationOptions WithSpaces(Space? observationSpace, Space? actionSpace) => this with { ObservationSpace = observationSpace, ActionSpace = actionSpace };

    /// <summary>Every problem at once, one line each naming the field and the allowed range.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        problems.AddIf(new OptionRange(1, 1024).Problem(nameof(Simulations), Simulations));
        problems.AddIf(new OptionRange(1, 4096).Problem(nameof(StreamsPerSimulation), StreamsPerSimulation));
        if (StreamTimeout < TimeSpan.Zero) problems.Add($"{nameof(StreamTimeout)} = {StreamTimeout} is negative; use TimeSpan.Zero for no timeout.");
        if (RoundTimeout < TimeSpan.Zero) problems.Add($"{nameof(RoundTimeout)} = {RoundTimeout} is negative; use TimeSpan.Zero for no limit.");
        if (IdleTimeout < TimeSpan.Zero) problems.Add($"{nameof(IdleTimeout)} = {IdleTimeout} is negative; use TimeSpan.Zero for no limit.");
        if (!Enum.IsDefined(SilentStreams)) problems.Add($"{nameof(SilentStreams)} = {(int)SilentStreams} is not one of {string.Join(", ", Enum.GetNames<SilentStreamHandling>())}.");
        if ((ObservationSpace is null) != (ActionSpace is null)) problems.Add($"{nameof(ObservationSpace)} and {nameof(ActionSpace)} must be set together.");
        return problems;
    }
}

/// <summary>
/// A run trained on the user's own actor simulations: send <see cref="Decide"/> and <see cref="Outcome"/> to a gateway
/// of <see cref="Gateways"/>, await <see cref="Completion"/>.
/// </summary>
public sealed class SimulationRun
{
    internal SimulationRun(TrainingRun run, IReadOnlyList<IActorRef> gateways)
    {
        Training = run;
        Gateways = gateways;
    }

    /// <summary>The underlying run: the same learner, events, checkpoints and result as <see cref="Actors.Training.Start(ActorSystem, TrainingOptions, Action{TrainingProgress}?)"/>.</summary>
    public TrainingRun Training { get; }

    /// <summary>One gateway (a <see cref="SimulationCollector"/>) per simulation; its streams are numbered 0..StreamsPerSimulation-1.</summary>
    public IReadOnlyList<IActorRef> Gateways { get; }

    /// <summary>Completes when the run ends, with the trained parameters.</summary>
    public Task<TrainingResult> Completion => Training.Completion;

    /// <summary>The network sizes of this run.</summary>
    public NetworkSpec Spec => Training.Spec;

    /// <summary>Asks the learner to finish; <see cref="Completion"/> then completes.</summary>
    public void Stop() => Training.Stop();
}

/// <summary>
/// Simulation-driven training: the user's actors drive the episodes (an entity asks a gateway for an action and later
/// reports what followed) and the library assembles the streams into rollouts for the same learner that built-in workers
/// feed. Every algorithm works: A2C and PPO in synchronous rounds, IMPALA asynchronously (by
/// <see cref="AlgorithmOptions.Asynchrony"/>, as workers do).
/// </summary>
public static class SimulationTraining
{
    private static int runCounter;

    /// <summary>
    /// Starts a learner for <paramref name="options"/> and <see cref="SimulationOptions.Simulations"/> gateways in
    /// <paramref name="system"/>. The algorithm's <see cref="AlgorithmOptions.Workers"/> and
    /// <see cref="AlgorithmOptions.EnvironmentsPerWorker"/> are replaced by the simulations and their streams, so the
    /// learner waits for every gateway and the run's summaries say what trained. Evaluation
    /// (<see cref="TrainingOptions.Evaluation"/>) needs <see cref="TrainingOptions.EnvironmentId"/> to name a real environment.
    /// </summary>
    /// <exception cref="OptionsValidationException">The options are invalid (every problem at once).</exception>
    public static SimulationRun Start(ActorSystem system, TrainingOptions options, SimulationOptions simulation, Action<TrainingProgress>? onProgress = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        var effective = ForCluster(options, simulation);
        var run = Actors.Training.StartRun(system, effective, onProgress, RunDisk.Real, workers: false);
        var bounds = effective.Environments.Make(effective.EnvironmentId).ActionSpace as Box;
        int id = Interlocked.Increment(ref runCounter);
        var gateways = new IActorRef[simulation.Simulations];
        for (int i = 0; i < gateways.Length; i++)
        {
            var plan = RunWiring.Worker(effective, i);
            var settings = new CollectorSettings(i, simulation.StreamsPerSimulation, plan.RolloutLength, run.Spec, plan.Seed, simulation.StreamTimeout, plan.Ahead, bounds, simulation.RunAhead)
            {
                SilentStreams = simulation.SilentStreams,
                RewardScaling = plan.RewardScaling,
                RoundTimeout = simulation.RoundTimeout,
            };
            gateways[i] = system.ActorOf(SimulationCollector.Props(settings, run.Learner), $"advantage-simulation-{id}-{i}");
        }
        return new SimulationRun(run, gateways);
    }

    /// <summary>
    /// The options a learner trains simulations with: <see cref="AlgorithmOptions.Workers"/> and
    /// <see cref="AlgorithmOptions.EnvironmentsPerWorker"/> become <see cref="SimulationOptions.Simulations"/> and
    /// <see cref="SimulationOptions.StreamsPerSimulation"/>, the environment id stands for the simulation's spaces when it names
    /// no registered environment, and no environment check runs on it. <see cref="Start"/> uses it; pass its result to
    /// <see cref="Cluster.ClusterLearner.CreateSystem"/> and <see cref="Cluster.ClusterLearner.Start"/> to train simulations
    /// that run on worker nodes (<see cref="Cluster.ClusterWorkerOptions.Simulation"/>): the learner waits for
    /// <see cref="SimulationOptions.Simulations"/> gateways in all. Only those two sizes, the spaces and the learner's limits
    /// (<see cref="SimulationOptions.RoundTimeout"/>, <see cref="SimulationOptions.IdleTimeout"/>: how long its rounds wait for
    /// simulations) are read from <paramref name="simulation"/>; the rest is each node's own (<see cref="SimulationHosting"/>).
    /// </summary>
    /// <exception cref="OptionsValidationException">The options are invalid (every problem at once).</exception>
    public static TrainingOptions ForCluster(TrainingOptions options, SimulationOptions simulation)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(simulation);
        OptionsValidationException.ThrowIfAny(nameof(SimulationOptions), simulation.Problems());
        var registry = options.Environments;
        if (simulation.ObservationSpace is { } observationSpace && simulation.ActionSpace is { } actionSpace
            && registry is not null && !string.IsNullOrWhiteSpace(options.EnvironmentId) && !registry.Contains(options.EnvironmentId))
            registry = registry.Register(options.EnvironmentId, () => new SpacesOnly(observationSpace, actionSpace));
        var effective = options with
        {
            Environments = registry!,
            Algorithm = options.Algorithm! with { Workers = simulation.Simulations, EnvironmentsPerWorker = simulation.StreamsPerSimulation },
            // The user's simulation is no environment to check: only its spaces are known here.
            EnvironmentCheck = simulation.ObservationSpace is null ? options.EnvironmentCheck : null,
            SimulationRounds = new SimulationRoundLimits(simulation.RoundTimeout, simulation.IdleTimeout),
        };
        return effective;
    }

    /// <summary>Stands in for a simulation that has no <see cref="IEnvironment"/>: its spaces size the network; it cannot be stepped.</summary>
    private sealed class SpacesOnly(Space observationSpace, Space actionSpace) : IEnvironment
    {
        public Space ObservationSpace { get; } = observationSpace;

        public Space ActionSpace { get; } = actionSpace;

        public void Reset(int? seed, Span<float> observation) =>
            throw new NotSupportedException("This environment id stands for an actor simulation's spaces; it cannot be reset or stepped (evaluation needs a real environment).");

        public StepResult Step(ReadOnlySpan<float> action, Span<float> observation) =>
            throw new NotSupportedException("This environment id stands for an actor simulation's spaces; it cannot be stepped.");
    }
}

/// <summary>
/// How long a learner's synchronous rounds wait for simulations (<see cref="SimulationOptions.RoundTimeout"/>,
/// <see cref="SimulationOptions.IdleTimeout"/>); <see cref="TimeSpan.Zero"/> waits forever. Only simulation runs carry it.
/// </summary>
/// <param name="RoundTimeout">After a round's first rollout, how long it waits for the rest before it closes with those it has.</param>
/// <param name="IdleTimeout">How long a round waits for its first rollout before the run ends as failed.</param>
internal sealed record SimulationRoundLimits(TimeSpan RoundTimeout, TimeSpan IdleTimeout);
