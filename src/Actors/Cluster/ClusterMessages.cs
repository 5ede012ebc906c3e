using Advantage.Learning.Networks;
using Akka.Actor;

namespace Advantage.Actors.Cluster;

/// <summary>
/// A worker node asks the learner node to take part in its run; sent repeatedly until answered, because
/// the learner node may not be up yet (or may be coming back after a crash).
/// </summary>
/// <param name="Node">The asking node's address; the learner frees its worker ids when that node leaves the cluster.</param>
/// <param name="Workers">How many worker actors the node will host.</param>
public sealed record JoinRun(string Node, int Workers) : IAdvantageMessage;

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
public sealed record RunJoined(IActorRef Learner, string EnvironmentId, NetworkSpec Spec, IReadOnlyList<WorkerPlan> Workers) : IAdvantageMessage;
