using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Actors;

/// <summary>
/// Asynchronous rounds (IMPALA; ARCHITECTURE.md, The asynchronous round): nobody waits. A batch is the first B valid
/// rollouts of recent enough versions in the order they arrived, from whichever workers sent them; a rollout more than
/// MaxLag versions old is dropped (counted, reported as <c>stale_dropped</c>). Every rollout taken or dropped is
/// acknowledged with the next parameters the worker gets, which is what lets it keep at most InFlight unacknowledged.
/// </summary>
internal sealed class AsynchronousRoundPolicy(WorkerRoster workers, AsynchronousRounds shape, Func<Rollout, string?> validate) : IRoundPolicy
{
    private readonly Queue<(IActorRef Worker, Rollout Rollout)> arrived = new();
    private readonly Dictionary<IActorRef, int> unacknowledged = new();
    private long stale;

    /// <inheritdoc />
    public WorkerRoster Workers => workers;

    /// <summary>Valid rollouts waiting for the next batch.</summary>
    public int Arrived => arrived.Count;

    /// <inheritdoc />
    public bool Register(IActorRef worker, RegisterWorker registration) => workers.Register(worker, registration);

    /// <inheritdoc />
    public RegisterWorker? Remove(IActorRef worker)
    {
        unacknowledged.Remove(worker);
        return workers.Remove(worker);
    }

    /// <inheritdoc />
    public RolloutVerdict Offer(IActorRef worker, RolloutCollected message, long version, bool started)
    {
        var rollout = message.Data;
        if (Problem(worker, rollout, version) is not { } problem)
        {
            arrived.Enqueue((worker, rollout));
            return RolloutVerdict.Accepted;
        }
        // Expected now and then (a slow worker): counted and published, not worth a warning each.
        bool late = rollout.Version < version - shape.MaxLag;
        if (late) stale++;
        // The worker stops once it is far enough ahead of the learner: acknowledging the dropped rollout now lets it go on
        // even if no update is near. Bad contents (not merely late): the worker restarts with fresh environments, as in
        // synchronous rounds.
        if (!started || !workers.Contains(worker)) return new RolloutVerdict(problem, late);
        Acknowledge(worker);
        return new RolloutVerdict(problem, late, Resend: true, Refusal: validate(rollout));
    }

    /// <summary>
    /// Why the worker's rollout cannot be queued (a stranger, a version ahead of the learner's, one more than MaxLag
    /// versions behind it, a wrong worker id, bad contents, no behaviour log-probabilities); null when it can. A worker
    /// may have several queued.
    /// </summary>
    private string? Problem(IActorRef worker, Rollout rollout, long version) =>
        workers.Registration(worker) is not { } registration ? "it comes from an unregistered worker"
        : rollout.Version > version ? $"it is of version {rollout.Version}, ahead of the learner's {version}"
        : version - rollout.Version > shape.MaxLag ? $"it is {version - rollout.Version} versions old, more than MaxLag = {shape.MaxLag}"
        : rollout.WorkerId != registration.WorkerId ? $"its worker id {rollout.WorkerId} differs from the registered {registration.WorkerId}"
        : validate(rollout) ?? (rollout.BehaviourLogProbs.Length == 0 ? "it carries no BehaviourLogProbs, which asynchronous rounds need" : null);

    /// <summary>The first B queued rollouts in arrival order once that many are queued (each acknowledged); else null.</summary>
    public Rollout[]? TakeBatch()
    {
        if (arrived.Count < shape.BatchRollouts) return null;
        var batch = new Rollout[shape.BatchRollouts];
        for (int i = 0; i < batch.Length; i++)
        {
            var (worker, rollout) = arrived.Dequeue();
            Acknowledge(worker);
            batch[i] = rollout;
        }
        return batch;
    }

    /// <summary>
    /// One more of the worker's rollouts is done with (taken into a batch or dropped). Nothing is kept for a worker that is
    /// gone: its queued rollouts may still be taken after it died, and an entry for a dead actor would never be told (only
    /// live workers are) nor cleared.
    /// </summary>
    private void Acknowledge(IActorRef worker)
    {
        if (workers.Contains(worker)) unacknowledged[worker] = unacknowledged.GetValueOrDefault(worker) + 1;
    }

    /// <summary>Workers with acknowledgements not yet told; for tests that nothing is kept for departed workers.</summary>
    internal int AcknowledgementEntries => unacknowledged.Count;

    /// <summary>How far behind the learner the batch's rollouts were, and how many were dropped as too old so far.</summary>
    public UpdateMetrics Describe(UpdateMetrics metrics, Rollout[] batch, long version)
    {
        double sum = 0, max = 0;
        foreach (var r in batch)
        {
            double lag = version - r.Version;
            sum += lag;
            max = Math.Max(max, lag);
        }
        var extra = new Dictionary<string, double>(metrics.Extra)
        {
            ["lag_mean"] = sum / batch.Length,
            ["lag_max"] = max,
            ["stale_dropped"] = stale,
        };
        return metrics with { Extra = extra };
    }

    /// <summary>The parameters with the worker's rollouts done with since it was last told (the count restarts at 0).</summary>
    public Parameters For(IActorRef worker, Parameters parameters)
    {
        int acknowledged = unacknowledged.Remove(worker, out int count) ? count : 0;
        return acknowledged == 0 ? parameters : parameters with { Acknowledged = acknowledged };
    }

    /// <summary>None: asynchronous rounds do not save worker states (a resume of them is not exact).</summary>
    public WorkerSavedState[]? SavedWorkerStates(long at) => null;
}
