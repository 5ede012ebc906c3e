using Akka.Actor;

namespace Advantage.Actors;

/// <summary>
/// The live workers of a run and what each registered as (its worker id, its environment count). Both round policies
/// read it; neither owns it, since a worker belongs to the run, not to one kind of round. Holds no Akka context, so it
/// is tested with plain refs.
/// </summary>
internal sealed class WorkerRoster
{
    private readonly Dictionary<IActorRef, RegisterWorker> workers = new();

    /// <summary>Live workers.</summary>
    public int Count => workers.Count;

    /// <summary>Live workers in worker-id order.</summary>
    public IEnumerable<IActorRef> InIdOrder => workers.OrderBy(w => w.Value.WorkerId).Select(w => w.Key);

    /// <summary>Adds or refreshes a worker; true when it is new.</summary>
    public bool Register(IActorRef worker, RegisterWorker registration)
    {
        bool joined = !workers.ContainsKey(worker);
        workers[worker] = registration;
        return joined;
    }

    /// <summary>Forgets a worker (it died); its registration, or null when it was unknown.</summary>
    public RegisterWorker? Remove(IActorRef worker) => workers.Remove(worker, out var registration) ? registration : null;

    /// <summary>The worker's registration, or null for a stranger.</summary>
    public RegisterWorker? Registration(IActorRef worker) => workers.GetValueOrDefault(worker);

    /// <summary>Whether the worker is live.</summary>
    public bool Contains(IActorRef worker) => workers.ContainsKey(worker);
}
