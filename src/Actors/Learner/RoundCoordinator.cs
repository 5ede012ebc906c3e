using Advantage.Learning;
using Akka.Actor;

namespace Advantage.Actors;

/// <summary>
/// Who takes part in a synchronous round and what each has sent: a round is complete when every live worker
/// has sent exactly one valid rollout of the round's version, and its batch is ordered by worker id so the
/// update does not depend on arrival order. Holds no Akka context, so it is tested with plain refs.
/// </summary>
internal sealed class RoundCoordinator
{
    private readonly Dictionary<IActorRef, RegisterWorker> workers = new();
    private readonly Dictionary<IActorRef, Rollout> pending = new();

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

    /// <summary>The round's rollouts in worker-id order once every live worker has sent one (and the round is cleared); else null.</summary>
    public Rollout[]? TakeBatch()
    {
        if (workers.Count == 0 || pending.Count < workers.Count) return null;
        var batch = pending.Values.OrderBy(r => r.WorkerId).ToArray();
        pending.Clear();
        return batch;
    }
}
