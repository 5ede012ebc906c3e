using Advantage.Learning.Networks;
using Akka.Actor;

namespace Advantage.Actors.Simulation;

/// <summary>
/// What a stream whose silence outlasts <see cref="SimulationOptions.StreamTimeout"/> leaves in the rollout. Either way the
/// rollout goes on without waiting for it, and the collector counts the stream and its steps
/// (<see cref="SimulationStatistics.SilentStreams"/>, <see cref="SimulationStatistics.DroppedSteps"/>,
/// <see cref="SimulationStatistics.BootstrappedSteps"/>).
/// </summary>
public enum SilentStreamHandling
{
    /// <summary>Its partial column is discarded: nothing it did since the rollout began is trained on. The default (no guess is made).</summary>
    Drop,

    /// <summary>
    /// Its partial column is kept, cut as truncated at the last step whose successor is known, and bootstrapped from the value of
    /// its last observation: the steps are trained on when the column completes, which it does when the stream speaks again (it
    /// then starts a new episode in the same column). A stream that never speaks again never completes its column, so its
    /// kept steps are never trained on (they are counted as bootstrapped all the same).
    /// </summary>
    Bootstrap,
}

/// <summary>
/// The simulations a cluster worker node hosts instead of worker actors (<see cref="Cluster.ClusterWorkerOptions.Simulation"/>):
/// the node joins the learner, which sends each simulation's id, seed, rollout length and streams, and the node starts one
/// gateway per simulation and calls <see cref="Start"/> with them, where the user's own actors begin to drive episodes.
/// </summary>
/// <param name="Start">
/// Called once per run the node joins, on the node's actor thread, with the gateways and the actor system to create the
/// simulation's actors in. The node's actor system ends with the run (or when the learner is lost and the node starts over
/// with a fresh one), and the simulation's actors end with it; the next join calls <paramref name="Start"/> again. Keep it quick:
/// create actors, do not wait on them.
/// </param>
public sealed record SimulationHosting(Action<SimulationGateways> Start)
{
    /// <summary>Gateways on this node, in [1, 1024]: each takes the place of one worker of the learner's run. Default 1.</summary>
    public int Simulations { get; init; } = 1;

    /// <summary>See <see cref="SimulationOptions.StreamTimeout"/>. Default 30 s.</summary>
    public TimeSpan StreamTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>See <see cref="SimulationOptions.RunAhead"/>. Default true.</summary>
    public bool RunAhead { get; init; } = true;

    /// <summary>See <see cref="SimulationOptions.SilentStreams"/>. Default <see cref="SilentStreamHandling.Drop"/>.</summary>
    public SilentStreamHandling SilentStreams { get; init; } = SilentStreamHandling.Drop;

    /// <summary>
    /// See <see cref="SimulationOptions.RoundTimeout"/>: this node's gateways' part (their slow streams cut). How long the
    /// learner's rounds wait for simulations is the learner's, from the options given to
    /// <see cref="SimulationTraining.ForCluster"/>, since only it sees every node's simulations. Default 5 s.
    /// </summary>
    public TimeSpan RoundTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Returns a copy with <see cref="Simulations"/> changed.</summary>
    public SimulationHosting WithSimulations(int value) => this with { Simulations = value };

    /// <summary>Returns a copy with <see cref="StreamTimeout"/> changed.</summary>
    public SimulationHosting WithStreamTimeout(TimeSpan value) => this with { StreamTimeout = value };

    /// <summary>Returns a copy with <see cref="RunAhead"/> changed.</summary>
    public SimulationHosting WithRunAhead(bool value) => this with { RunAhead = value };

    /// <summary>Returns a copy with <see cref="SilentStreams"/> changed.</summary>
    public SimulationHosting WithSilentStreams(SilentStreamHandling value) => this with { SilentStreams = value };

    /// <summary>Returns a copy with <see cref="RoundTimeout"/> changed.</summary>
    public SimulationHosting WithRoundTimeout(TimeSpan value) => this with { RoundTimeout = value };

    /// <summary>Every problem at once, one line each naming the field and the allowed range.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (Start is null) problems.Add($"{nameof(Start)} must be set: it starts the simulation's actors with the gateways.");
        // The fields it shares with SimulationOptions are checked there, so both say the same.
        problems.AddRange(new SimulationOptions { Simulations = Simulations, StreamTimeout = StreamTimeout, RunAhead = RunAhead, SilentStreams = SilentStreams, RoundTimeout = RoundTimeout }.Problems());
        return problems;
    }
}

/// <summary>The gateways a cluster worker node started for the run it joined (see <see cref="SimulationHosting.Start"/>).</summary>
/// <param name="System">The node's actor system: create the simulation's actors here, so they talk to the gateways locally.</param>
/// <param name="Gateways">One <see cref="SimulationCollector"/> per simulation of this node; send it <see cref="Decide"/> and <see cref="Outcome"/>.</param>
/// <param name="StreamsPerSimulation">The streams of every gateway (numbered 0..StreamsPerSimulation-1), as the learner's run sets them.</param>
/// <param name="Spec">The run's network, for the sizes of observations (<see cref="NetworkSpec.ObservationSize"/>) and actions.</param>
/// <param name="SimulationIds">Each gateway's id in the run (its worker id), in the order of <paramref name="Gateways"/>.</param>
public sealed record SimulationGateways(ActorSystem System, IReadOnlyList<IActorRef> Gateways, int StreamsPerSimulation, NetworkSpec Spec, IReadOnlyList<int> SimulationIds);
