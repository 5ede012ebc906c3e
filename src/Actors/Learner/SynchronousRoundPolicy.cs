using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Actors;

/// <summary>
/// Synchronous rounds (A2C, PPO), step 3 of ARCHITECTURE.md, One synchronous round: a round is keyed by the parameter
/// version and complete when every live worker has sent exactly one valid rollout of it; its batch is ordered by
/// worker id, so the update does not depend on arrival order (and a seeded run gives the same parameters bit for bit
/// in every placement). A worker whose rollout is refused is never left waiting: a rollout of another version gets
/// the current parameters back, a bad one of this round a <see cref="RolloutRefused"/>.
/// </summary>
internal sealed class SynchronousRoundPolicy(WorkerRoster workers, Func<Rollout, string?> validate) : IRoundPolicy
{
    private readonly Dictionary<IActorRef, Rollout> pending = new();

    /// <summary>Per worker, the state it saved with its last rollout that asked for it, and that rollout's version.</summary>
    private readonly Dictionary<int, (long Version, byte[] State)> workerStates = [];

    /// <summary>The last round closed short (<see cref="CloseShort"/>): its version and the workers it went without.</summary>
    private (long Version, HashSet<IActorRef> Without) closedShort = (-1, []);

    /// <inheritdoc />
    public WorkerRoster Workers => workers;

    /// <inheritdoc />
    public bool Register(IActorRef worker, RegisterWorker registration)
    {
        pending.Remove(worker);
        return workers.Register(worker, registration);
    }

    /// <inheritdoc />
    public RegisterWorker? Remove(IActorRef worker)
    {
        pending.Remove(worker);
        return workers.Remove(worker);
    }

    /// <summary>Whether the worker already sent its rollout of this round.</summary>
    public bool HasSent(IActorRef worker) => pending.ContainsKey(worker);

    /// <inheritdoc />
    public RolloutVerdict Offer(IActorRef worker, RolloutCollected message, long version, bool started)
    {
        var rollout = message.Data;
        if (Problem(worker, rollout, version) is not { } problem)
        {
            pending[worker] = rollout;
            // Saved for the checkpoint the update of this round writes (see WorkerActor): kept until then.
            if (message.WorkerState is { } state) workerStates[rollout.WorkerId] = (rollout.Version, state);
            return RolloutVerdict.Accepted;
        }
        // Keep a well-behaved worker of the current round going: it has no other way to get parameters. A bad rollout of
        // this round: the worker restarts with fresh environments (counted against the restarts allowed), registers again
        // and gets this round's parameters.
        bool answer = started && workers.Contains(worker) && !pending.ContainsKey(worker);
        // The rollout of a round that closed without it comes after the close: expected (the worker was slow), so quiet.
        bool late = answer && rollout.Version == closedShort.Version && closedShort.Without.Contains(worker);
        return new RolloutVerdict(problem, Late: late, Resend: answer && rollout.Version != version, Refusal: answer && rollout.Version == version ? problem : null);
    }

    /// <summary>
    /// Why the worker's rollout cannot join the round (a stranger, another version, a wrong worker id, a second rollout
    /// this round, or whatever the validation finds wrong with its contents); null when it can.
    /// </summary>
    private string? Problem(IActorRef worker, Rollout rollout, long version) =>
        workers.Registration(worker) is not { } registration ? "it comes from an unregistered worker"
        : rollout.Version != version ? $"it is of version {rollout.Version}, the round is at {version}"
        : rollout.WorkerId != registration.WorkerId ? $"its worker id {rollout.WorkerId} differs from the registered {registration.WorkerId}"
        : pending.ContainsKey(worker) ? "this worker already sent one this round"
        : validate(rollout);

    /// <summary>The round's rollouts in worker-id order once every live worker has sent one (and the round is cleared); else null.</summary>
    public Rollout[]? TakeBatch()
    {
        if (workers.Count == 0 || pending.Count < workers.Count) return null;
        var batch = pending.Values.OrderBy(r => r.WorkerId).ToArray();
        pending.Clear();
        return batch;
    }

    /// <summary>Rollouts in the round so far.</summary>
    public int Pending => pending.Count;

    /// <summary>
    /// Closes round <paramref name="version"/> with the rollouts it has, in worker-id order, and the ids of the live workers
    /// it goes without; null when it has none (a round with no rollout is no round). Only simulation runs close rounds short
    /// (<see cref="Simulation.SimulationRoundLimits"/>). A rollout of this round that comes later from one of those workers is
    /// late: dropped quietly, counted by the learner, and answered with the current parameters.
    /// </summary>
    public (Rollout[] Batch, int[] Missing)? CloseShort(long version)
    {
        if (pending.Count == 0) return null;
        var without = workers.InIdOrder.Where(w => !pending.ContainsKey(w)).ToList();
        var missing = without.Select(w => workers.Registration(w)!.WorkerId).ToArray();
        closedShort = (version, without.ToHashSet());
        var batch = pending.Values.OrderBy(r => r.WorkerId).ToArray();
        pending.Clear();
        return (batch, missing);
    }

    /// <summary>The ids of the live workers that have sent no rollout of this round, in id order.</summary>
    public int[] Missing() => workers.InIdOrder.Where(w => !pending.ContainsKey(w)).Select(w => workers.Registration(w)!.WorkerId).ToArray();

    /// <inheritdoc />
    public UpdateMetrics Describe(UpdateMetrics metrics, Rollout[] batch, long version) => metrics;

    /// <inheritdoc />
    public Parameters For(IActorRef worker, Parameters parameters) => parameters;

    /// <inheritdoc />
    public WorkerSavedState[]? SavedWorkerStates(long at)
    {
        var saved = workerStates.Where(w => w.Value.Version == at - 1).OrderBy(w => w.Key).Select(w => new WorkerSavedState(w.Key, w.Value.State)).ToArray();
        return saved.Length == 0 ? null : saved;
    }
}
