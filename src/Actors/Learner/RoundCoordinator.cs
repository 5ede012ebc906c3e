using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Actors;

/// <summary>
/// Who takes part in a round and what each has sent. A synchronous round is complete when every live worker
/// has sent exactly one valid rollout of the round's version, and its batch is ordered by worker id so the
/// update does not depend on arrival order. An asynchronous round takes the first B valid rollouts of recent
/// enough versions in the order they arrived, from whichever workers sent them. Holds no Akka context, so it is
/// tested with plain refs.
/// </summary>
internal sealed class RoundCoordinator
{
    private readonly Dictionary<IActorRef, RegisterWorker> workers = new();
    private readonly Dictionary<IActorRef, Rollout> pending = new();
    private readonly Queue<(IActorRef Worker, Rollout Rollout)> arrived = new();
    private readonly Dictionary<IActorRef, int> unacknowledged = new();

    /// <summary>Live workers.</summary>
    public int Count => workers.Count;

    /// <summary>Live workers in worker-id order.</summary>
    public IEnumerable<IActorRef> InIdOrder => workers.OrderBy(w => w.Value.WorkerId).Select(w => w.Key);

    /// <summary>Adds or refreshes a worker; true when it is new. A re-registering worker has no rollout in flight any more.</summary>
    public bool Register(IActorRef worker, RegisterWorker registration)
    {
        bool joined = !workers.ContainsKey(worker);
        workers[worker] = registration;
        pending.Remove(worker);
        return joined;
    }

    /// <summary>Forgets a worker (it died); its registration, or null when it was unknown.</summary>
    public RegisterWorker? Remove(IActorRef worker)
    {
        pending.Remove(worker);
        unacknowledged.Remove(worker);
        return workers.Remove(worker, out var registration) ? registration : null;
    }

    /// <summary>The worker's registration, or null for a stranger.</summary>
    public RegisterWorker? Registration(IActorRef worker) => workers.GetValueOrDefault(worker);

    /// <summary>Whether the worker already sent its rollout of this round.</summary>
    public bool HasSent(IActorRef worker) => pending.ContainsKey(worker);

    /// <summary>
    /// Takes the worker's rollout into the round, or says why not (a stranger, another version, a wrong worker
    /// id, a second rollout this round, or whatever <paramref name="validate"/> finds wrong with its contents).
    /// </summary>
    public string? Offer(IActorRef worker, Rollout rollout, long version, Func<Rollout, string?> validate)
    {
        string? problem = !workers.TryGetValue(worker, out var registration) ? "it comes from an unregistered worker"
            : rollout.Version != version ? $"it is of version {rollout.Version}, the round is at {version}"
            : rollout.WorkerId != registration.WorkerId ? $"its worker id {rollout.WorkerId} differs from the registered {registration.WorkerId}"
            : pending.ContainsKey(worker) ? "this worker already sent one this round"
            : validate(rollout);
        if (problem is null) pending[worker] = rollout;
        return problem;
    }

    /// <summary>Asynchronous rounds: valid rollouts waiting for the next batch.</summary>
    public int Arrived => arrived.Count;

    /// <summary>
    /// Asynchronous rounds: queues the worker's rollout for the next batch, or says why not (a stranger, a version
    /// ahead of the learner's, one more than <paramref name="maxLag"/> versions behind it, a wrong worker id, or
    /// whatever <paramref name="validate"/> finds wrong with its contents). A worker may have several queued.
    /// </summary>
    public string? OfferArrival(IActorRef worker, Rollout rollout, long version, int maxLag, Func<Rollout, string?> validate)
    {
        string? problem = !workers.TryGetValue(worker, out var registration) ? "it comes from an unregistered worker"
            : rollout.Version > version ? $"it is of version {rollout.Version}, ahead of the learner's {version}"
            : version - rollout.Version > maxLag ? $"it is {version - rollout.Version} versions old, more than MaxLag = {maxLag}"
            : rollout.WorkerId != registration.WorkerId ? $"its worker id {rollout.WorkerId} differs from the registered {registration.WorkerId}"
            : validate(rollout);
        if (problem is null) arrived.Enqueue((worker, rollout));
        return problem;
    }

    /// <summary>Asynchronous rounds: the first <paramref name="count"/> queued rollouts in arrival order once that many are queued; else null.</summary>
    public Rollout[]? TakeArrived(int count)
    {
        if (arrived.Count < count) return null;
        var batch = new Rollout[count];
        for (int i = 0; i < count; i++)
        {
            var (worker, rollout) = arrived.Dequeue();
            Acknowledge(worker);
            batch[i] = rollout;
        }
        return batch;
    }

    /// <summary>
    /// Asynchronous rounds: one more of the worker's rollouts is done with (taken into a batch or dropped). Nothing is
    /// kept for a worker that is gone: its queued rollouts may still be taken after it died, and an entry for a dead
    /// actor would never be told (only live workers are) nor cleared.
    /// </summary>
    public void Acknowledge(IActorRef worker)
    {
        if (workers.ContainsKey(worker)) unacknowledged[worker] = unacknowledged.GetValueOrDefault(worker) + 1;
    }

    /// <summary>Workers with acknowledgements not yet told; for tests that nothing is kept for departed workers.</summary>
    internal int AcknowledgementEntries => unacknowledged.Count;

    /// <summary>Asynchronous rounds: the worker's rollouts done with since it was last told, which it is told now (the count restarts at 0).</summary>
    public int TakeAcknowledged(IActorRef worker) => unacknowledged.Remove(worker, out int count) ? count : 0;

    /// <summary>The round's rollouts in worker-id order once every live worker has sent one (and the round is cleared); else null.</summary>
    public Rollout[]? TakeBatch()
    {
        if (workers.Count == 0 || pending.Count < workers.Count) return null;
        var batch = pending.Values.OrderBy(r => r.WorkerId).ToArray();
        pending.Clear();
        return batch;
    }
}
