using Advantage.Learning.Networks;
using Akka.Actor;

namespace Advantage.Actors.Cluster;

/// <summary>
/// A worker node asks the learner node to take part in its run; sent repeatedly until answered, because
/// the learner node may not be up yet (or may be coming back after a crash). It is the cluster's handshake: it says
/// which wire protocol and Advantage version the node runs and which environments it can make, so the learner refuses,
/// with the reason, a node that could not take part (<see cref="JoinRefused"/>) instead of letting the run wait for it.
/// </summary>
/// <param name="Node">The asking node's address; the learner frees its worker ids when that node leaves the cluster.</param>
/// <param name="Workers">How many worker actors the node will host.</param>
internal sealed record JoinRun(string Node, int Workers) : IAdvantageMessage
{
    /// <summary>
    /// The message manifests the node's serializer writes (<see cref="Serialization.AdvantageSerializer.Wire"/>). Nodes of
    /// one cluster must speak the same set; the learner refuses a node whose set differs. Default: this node's.
    /// </summary>
    public IReadOnlyList<string> Wire { get; init; } = Serialization.AdvantageSerializer.Wire;

    /// <summary>The node's Advantage version, for the refusal's message. Default: this node's.</summary>
    public string Version { get; init; } = Serialization.AdvantageSerializer.ProductVersion;

    /// <summary>The environment ids the node can make; the learner refuses a node without the run's. Default: none.</summary>
    public IReadOnlyList<string> EnvironmentIds { get; init; } = [];

    /// <summary>
    /// The algorithms registered on the node (<see cref="Learning.Algorithms"/>); the learner refuses a node that has not
    /// registered the run's, as it refuses one without the run's environment: every node of a run is meant to run the same
    /// build with the same registrations, and a node missing one is misconfigured. Default: this process's.
    /// </summary>
    public IReadOnlyList<string> Algorithms { get; init; } = Learning.Algorithms.Names;

    /// <summary>
    /// The node hosts simulations (its user's actors drive the episodes) instead of workers: it needs no environment, so the
    /// learner does not ask for the run's among <see cref="EnvironmentIds"/>. Default false.
    /// </summary>
    public bool Simulation { get; init; }
}

/// <summary>
/// The learner node's answer to a <see cref="JoinRun"/> it cannot accept: the node runs another wire protocol, or it lacks
/// the run's environment. The node says the reason and ends (<see cref="Cluster.ClusterWorkerEnd.Refused"/>); the learner has
/// logged the same reason with the node's address. Its manifest never changes, so nodes of any later version read it.
/// </summary>
/// <param name="Reason">One line for the user: what is wrong with the node and what to do.</param>
internal sealed record JoinRefused(string Reason) : IAdvantageMessage;

/// <summary>
/// The learner's run has ended (solved, out of budget, stopped or failed): a worker node that took part leaves the cluster
/// gracefully and ends (<see cref="Cluster.ClusterWorkerEnd.RunEnded"/>), or waits for the next run when
/// <see cref="Cluster.ClusterWorkerOptions.WaitForNextRun"/> is set.
/// </summary>
/// <param name="Detail">How the run ended, for the node's last line.</param>
internal sealed record RunEnded(string Detail) : IAdvantageMessage;

/// <summary>
/// The learner node's answer to <see cref="JoinRun"/>: the run's environment and network and one
/// <see cref="WorkerPlan"/> per worker actor the node hosts. Everything that shapes the numbers (ids, seeds,
/// environments per worker, rollout length, reseeding, reward scaling) comes from the learner, so which process
/// hosts which worker does not change the run.
/// </summary>
/// <param name="Learner">The learner actor the workers register with.</param>
/// <param name="EnvironmentId">Environment id the workers make (from their own registry).</param>
/// <param name="Spec">Network sizes.</param>
/// <param name="Workers">The workers this node hosts, by id.</param>
/// <param name="Algorithm">The run's algorithm, which the node checks it has registered as the learner did at the handshake.</param>
internal sealed record RunJoined(IActorRef Learner, string EnvironmentId, NetworkSpec Spec, IReadOnlyList<WorkerPlan> Workers, string Algorithm) : IAdvantageMessage
{
    /// <summary>The run's action bounds when its action space is a box: a simulation node clips the actions it answers to them. Null otherwise.</summary>
    public Advantage.Environments.Box? ActionBounds { get; init; }
}
