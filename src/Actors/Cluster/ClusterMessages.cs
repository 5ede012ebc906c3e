using Advantage.Environments;
using Advantage.Learning.Networks;
using Akka.Actor;

namespace Advantage.Actors.Cluster;

/// <summary>
/// A worker node asks the learner node to take part in its run; sent repeatedly until answered, because
/// the learner node may not be up yet (or may be coming back after a crash).
/// </summary>
/// <param name="Node">A name for the asking node, for logs.</param>
/// <param name="Workers">How many worker actors the node will start.</param>
/// <param name="EnvironmentsPerWorker">K of each of those workers.</param>
public sealed record JoinRun(string Node, int Workers, int EnvironmentsPerWorker) : IAdvantageMessage;

/// <summary>
/// The learner node's answer to <see cref="JoinRun"/>: everything a worker node needs to build workers
/// that fit this run, so worker processes are started without repeating the run's settings.
/// </summary>
/// <param name="Learner">The learner actor the workers register with.</param>
/// <param name="EnvironmentId">Environment id the workers make (from their own registry).</param>
/// <param name="Spec">Network sizes.</param>
/// <param name="RolloutLength">T.</param>
/// <param name="Seed">Run seed; worker seeds derive from it and their ids.</param>
/// <param name="FirstWorkerId">Ids FirstWorkerId .. FirstWorkerId + Workers - 1 belong to the asking node.</param>
/// <param name="RewardScaling">Worker-side reward scaling of the run; null when rewards stay raw.</param>
/// <param name="LanePort">
/// Port of the learner's data lane on the learner node's host, where workers send rollouts and receive
/// parameters without Akka.Remote's per-message thread hops; 0 when the learner offers none (then every
/// message goes through Akka.Remote).
/// </param>
public sealed record RunJoined(IActorRef Learner, string EnvironmentId, NetworkSpec Spec, int RolloutLength, int Seed, int FirstWorkerId,
    RewardScalerOptions? RewardScaling = null, int LanePort = 0) : IAdvantageMessage;
